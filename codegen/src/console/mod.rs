//! `volley console URL`: an interactive console on a live server. Type a method's name
//! and its parameters (`add a=1 b=2`, or `add {"a": 1, "b": 2}`) to call it, in any call
//! shape; subscribe to topics and shared states and watch them arrive above the prompt;
//! publish on the topics the server handles; `describe` what the server offers.
//!
//! Everything comes from the server's own schema (`volley.introspect`): Tab completes
//! commands, method, topic and state names and parameter names; a misspelt method is
//! answered with the closest names, and parameters that do not fit the method's JSON
//! Schema are refused, naming the field, before anything is sent.
//!
//! The parts: `commands.rs` parses a line, `schema.rs` reads the schema and checks
//! parameters, `complete.rs` is the line editor's completion and hints, `print.rs`
//! writes what arrives while a line is being typed.

mod commands;
mod complete;
mod print;
mod schema;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};
use serde_json::Value;
use volley::{CallOptions, Client, Encoding, Notification, Streaming};

use crate::connect::Connection;
use commands::{Line, Params, COMMANDS};
use complete::ConsoleHelper;
use print::Out;
use schema::Schema;

/// What to connect to, and where to keep the history.
#[derive(Debug)]
pub struct ConsoleArgs {
    /// The server's ws(s):// or http(s):// URL.
    pub url: String,
    /// Speak MessagePack instead of JSON.
    pub msgpack: bool,
    /// Headers and CA certificates.
    pub connection: Connection,
    /// The history file (default: [`default_history`]).
    pub history: Option<PathBuf>,
}

/// Where the history goes by default: `$XDG_STATE_HOME/volley/console_history`, else
/// `~/.local/state/volley/console_history`.
pub fn default_history() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local").join("state")))?;
    Some(state.join("volley").join("console_history"))
}

type Line_ = Editor<ConsoleHelper, FileHistory>;

struct Session {
    rt: tokio::runtime::Runtime,
    client: Client,
    schema: Schema,
    out: Out,
    /// The documents of the states subscribed to, as the patches made them.
    states: Arc<Mutex<HashMap<String, Value>>>,
}

/// Runs the console until `exit`, Ctrl-D, or the server going away (exit status 1).
pub fn run(args: ConsoleArgs) -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let encoding = if args.msgpack { Encoding::MsgPack } else { Encoding::Json };
    let (mut client, doc) = rt.block_on(async {
        let client = crate::connect::open(&args.url, encoding, &args.connection).await?;
        let doc: Value = client.call("volley.introspect", &serde_json::json!({})).await.map_err(|e| format!("cannot read the server's schema: {}", e.message))?;
        Ok::<_, String>((client, doc))
    })?;
    let schema = Schema::new(doc);
    // Ctrl-C during a call cancels the call: from here on it is no longer the end of
    // the process (at the prompt the line editor reads it as a key).
    {
        let _guard = rt.enter();
        let _ = futures_util::FutureExt::now_or_never(tokio::signal::ctrl_c());
    }

    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).build();
    let mut rl: Line_ = Editor::with_config(config)?;
    rl.set_helper(Some(ConsoleHelper::new(schema.clone())));
    let history = args.history.clone().or_else(default_history);
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.load_history(path);
    }
    let out = Out::new(rl.create_external_printer().ok().map(|p| Box::new(p) as Box<dyn rustyline::ExternalPrinter + Send>));
    let states = Arc::new(Mutex::new(HashMap::new()));
    let leaving = Arc::new(AtomicBool::new(false));
    let terminal = print::Terminal::save();

    if let Some(mut rx) = client.notifications() {
        let (out, states) = (out.clone(), Arc::clone(&states));
        rt.spawn(async move {
            while let Some(n) = rx.recv().await {
                out.line(notification_text(n, &states));
            }
        });
    }
    {
        let (peer, leaving, url) = (client.peer().clone(), Arc::clone(&leaving), args.url.clone());
        rt.spawn(async move {
            peer.closed().await;
            if !leaving.load(Ordering::SeqCst) {
                terminal.restore();
                eprint!("\r\nthe server closed the connection: {url} is gone\r\n");
                std::process::exit(1);
            }
        });
    }

    let name = schema.doc["name"].as_str().unwrap_or("the server").to_owned();
    out.line(format!("connected to {name} at {} ({} methods); `help` lists the commands, Tab completes", args.url, schema.methods.len()));
    let mut session = Session { rt, client, schema, out, states };
    loop {
        match rl.readline("volley> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                    if let Some(path) = &history {
                        if rl.append_history(path).is_err() {
                            let _ = rl.save_history(path);
                        }
                    }
                }
                match commands::parse(&line) {
                    Ok(Line::Exit) => break,
                    Ok(parsed) => session.handle(parsed, &mut rl),
                    Err(e) => session.out.line(format!("error: {e}")),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    leaving.store(true, Ordering::SeqCst);
    session.client.close();
    Ok(())
}

/// A notification as one line: `topic: value`, a state's whole document, a warning.
fn notification_text(n: Notification, states: &Mutex<HashMap<String, Value>>) -> String {
    match n {
        Notification::Topic { topic, value } => format!("[{topic}] {value}"),
        Notification::State { name, patch } => {
            let mut states = states.lock().unwrap();
            let doc = states.entry(name.clone()).or_insert(Value::Null);
            match volley::apply_patch(doc, &patch) {
                Ok(()) => format!("[state {name}] {doc}"),
                Err(e) => format!("[state {name}] could not apply a patch: {}", e.message),
            }
        }
        Notification::Connection { warning, code, message, data } => {
            let what = if warning { "warning" } else { "error" };
            let mut text = format!("{what}: {} ({}): {message}", code.name().unwrap_or("APPLICATION"), code.0);
            if let Some(data) = data {
                text.push_str(&format!(" {data}"));
            }
            text
        }
    }
}

fn remote(e: volley::Error) -> String {
    format!("error: {}", crate::call::CallFailure::Remote(e))
}

impl Session {
    fn handle(&mut self, line: Line, rl: &mut Line_) {
        match line {
            Line::Empty | Line::Exit => {}
            Line::Help => self.out.line(help()),
            Line::Describe(name) => self.describe(name.as_deref()),
            Line::Subscribe(names) | Line::Unsubscribe(names) if names.is_empty() => {}
            Line::Subscribe(names) => self.subscription("volley.subscribe", names),
            Line::Unsubscribe(names) => self.subscription("volley.unsubscribe", names),
            Line::Publish { topic, value } => self.publish(&topic, value),
            Line::Call { method, params } => self.call(&method, params, rl),
        }
    }

    fn describe(&self, name: Option<&str>) {
        let text = serde_json::to_string(&self.schema.doc)
            .map_err(|e| e.to_string())
            .and_then(|t| crate::load::parse("the server's schema", &t).map_err(|e| e.to_string()))
            .and_then(|doc| crate::describe::describe(doc, name, crate::describe::Format::Text).map_err(|e| e.to_string()));
        match text {
            Ok(t) => self.out.line(t.trim_end().to_owned()),
            Err(e) => self.out.line(format!("error: {e}")),
        }
    }

    fn subscription(&self, method: &str, names: Vec<String>) {
        let (states, topics): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| self.schema.states.contains(n));
        let mut params = serde_json::Map::new();
        if !topics.is_empty() {
            params.insert("topics".into(), topics.clone().into());
        }
        if !states.is_empty() {
            params.insert("states".into(), states.clone().into());
        }
        let undeclared: Vec<&String> = topics.iter().filter(|t| !t.ends_with('*') && !self.schema.topics.iter().any(|(n, _)| n == *t)).collect();
        match self.rt.block_on(self.client.call::<Value>(method, &Value::Object(params))) {
            Ok(_) => {
                if method == "volley.unsubscribe" {
                    let mut docs = self.states.lock().unwrap();
                    for s in &states {
                        docs.remove(s);
                    }
                }
                let verb = if method == "volley.subscribe" { "subscribed to" } else { "unsubscribed from" };
                let all: Vec<String> = topics.iter().chain(&states).map(|n| format!("`{n}`")).collect();
                self.out.line(format!("{verb} {}", all.join(", ")));
                for t in undeclared {
                    let names: Vec<&str> = self.schema.topics.iter().map(|(n, _)| n.as_str()).chain(self.schema.states.iter().map(String::as_str)).collect();
                    let mut note = format!("note: the schema declares no topic or state `{t}`");
                    if let Some(near) = crate::suggest::closest(t, names).first() {
                        note.push_str(&format!("; did you mean `{near}`?"));
                    }
                    self.out.line(note);
                }
            }
            Err(e) => self.out.line(remote(e)),
        }
    }

    fn publish(&self, topic: &str, value: Value) {
        let client_topics: Vec<&str> = self.schema.topics.iter().filter(|(_, c)| *c).map(|(n, _)| n.as_str()).collect();
        if !client_topics.contains(&topic) {
            let mut text = format!("error: the server handles no topic `{topic}` from clients");
            match crate::suggest::closest(topic, client_topics.iter().copied()).first() {
                Some(near) => text.push_str(&format!("; did you mean `{near}`?")),
                None if client_topics.is_empty() => text.push_str(" (it handles none)"),
                None => text.push_str(&format!(" (it handles {})", client_topics.join(", "))),
            }
            return self.out.line(text);
        }
        let problems = self.schema.check_item(topic, &self.schema.topic_payload(topic), &value);
        if !problems.is_empty() {
            return self.out.line(format!("error: the notification does not fit `{topic}` (nothing was sent):\n  {}", problems.join("\n  ")));
        }
        match self.client.notify(topic, &value) {
            Ok(()) => self.out.line(format!("published on `{topic}`")),
            Err(e) => self.out.line(remote(e)),
        }
    }

    fn call(&self, name: &str, params: Params, rl: &mut Line_) {
        let Some(method) = self.schema.method(name).cloned() else {
            let commands = COMMANDS.iter().map(|(c, _)| *c);
            let near = crate::suggest::closest(name, self.schema.methods.iter().map(|m| m.name.as_str()).chain(commands));
            let mut text = format!("error: no method or command `{name}`");
            if near.is_empty() {
                text.push_str("; `help` lists the commands, `describe` the methods");
            } else {
                text.push_str(&format!("; did you mean {}?", near.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")));
            }
            return self.out.line(text);
        };
        let params = match params {
            Params::Json(v) => v,
            Params::Pairs(pairs) => self.schema.pairs_to_params(&method, &pairs),
        };
        let problems = self.schema.check_params(&method, &params);
        if !problems.is_empty() {
            return self.out.line(format!("error: bad parameters for `{name}` (nothing was sent):\n  {}", problems.join("\n  ")));
        }
        let options = CallOptions::new();
        let client = &self.client;
        match method.kind.as_str() {
            "server_stream" => match client.server_stream::<Value>(name, &params, options) {
                Ok(items) => self.rt.block_on(self.print_items(items)),
                Err(e) => self.out.line(remote(e)),
            },
            "client_stream" => {
                let mut call = match client.client_stream::<Value, Value>(name, &params, options) {
                    Ok(c) => c,
                    Err(e) => return self.out.line(remote(e)),
                };
                self.out.line("send items one JSON value per line; an empty line or `.end` ends them, Ctrl-C cancels".into());
                loop {
                    match self.read_item(&method, rl) {
                        Item::Value(v) => {
                            if let Err(e) = self.rt.block_on(call.send(&v)) {
                                return self.out.line(remote(e));
                            }
                        }
                        Item::End => break,
                        Item::Cancel => return self.out.line("cancelled".into()),
                    }
                }
                let result = self.rt.block_on(async {
                    tokio::select! {
                        r = call.finish() => Some(r),
                        _ = tokio::signal::ctrl_c() => None,
                    }
                });
                match result {
                    Some(Ok(r)) => self.out.line(pretty(&r.value)),
                    Some(Err(e)) => self.out.line(remote(e)),
                    None => self.out.line("cancelled".into()),
                }
            }
            "bidi_stream" => {
                let (mut tx, rx) = match client.bidi_stream::<Value, Value>(name, &params, options) {
                    Ok(c) => c,
                    Err(e) => return self.out.line(remote(e)),
                };
                let out = self.out.clone();
                let printer = self.rt.spawn(async move {
                    let mut rx = rx;
                    while let Some(item) = rx.next().await {
                        match item {
                            Ok(v) => out.line(v.to_string()),
                            Err(e) => return out.line(remote(e)),
                        }
                    }
                });
                self.out.line("send items one JSON value per line; an empty line or `.end` ends them, Ctrl-C cancels".into());
                loop {
                    match self.read_item(&method, rl) {
                        Item::Value(v) => {
                            if self.rt.block_on(tx.send(&v)).is_err() {
                                break; // the server ended the call; the printer says why
                            }
                        }
                        Item::End => break,
                        Item::Cancel => {
                            printer.abort();
                            return self.out.line("cancelled".into());
                        }
                    }
                }
                tx.finish();
                let done = self.rt.block_on(async {
                    tokio::select! {
                        _ = printer => true,
                        _ = tokio::signal::ctrl_c() => false,
                    }
                });
                if !done {
                    self.out.line("cancelled".into());
                }
            }
            _ => {
                let result = self.rt.block_on(async {
                    tokio::select! {
                        r = client.call_with::<Value>(name, &params, options) => Some(r),
                        _ = tokio::signal::ctrl_c() => None,
                    }
                });
                match result {
                    Some(Ok(r)) => self.out.line(pretty(&r.value)),
                    Some(Err(e)) => self.out.line(remote(e)),
                    None => self.out.line("cancelled".into()),
                }
            }
        }
    }

    /// Prints a server stream's items as they arrive until it ends or Ctrl-C cancels it.
    async fn print_items(&self, mut items: Streaming<Value>) {
        loop {
            tokio::select! {
                item = items.next() => match item {
                    Some(Ok(v)) => self.out.line(v.to_string()),
                    Some(Err(e)) => return self.out.line(remote(e)),
                    None => return,
                },
                _ = tokio::signal::ctrl_c() => return self.out.line("cancelled".into()),
            }
        }
    }

    /// Reads one item to stream at the `… ` prompt, checked against the method's input.
    fn read_item(&self, method: &schema::MethodInfo, rl: &mut Line_) -> Item {
        loop {
            match rl.readline("… ") {
                Ok(line) if line.trim().is_empty() || line.trim() == ".end" => return Item::End,
                Ok(line) => {
                    let value = commands::json_or_text(line.trim());
                    let problems = self.schema.check_item("item", &method.input, &value);
                    if problems.is_empty() {
                        return Item::Value(value);
                    }
                    self.out.line(format!("error: not sent: {}", problems.join("; ")));
                }
                Err(ReadlineError::Interrupted) => return Item::Cancel,
                Err(_) => return Item::End,
            }
        }
    }
}

enum Item {
    Value(Value),
    End,
    Cancel,
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn help() -> String {
    let mut text = String::from("commands:\n");
    for (name, what) in COMMANDS {
        text.push_str(&format!("  {name:<12} {what}\n"));
    }
    text.push_str(
        "  METHOD {json}        call a method with its parameters as one JSON object\n  \
         METHOD key=value ... call it with parameters one by one (a value is JSON when it parses, else a string)\n\
         Server streams print each item as it arrives; Ctrl-C cancels the call in flight.\n\
         Client and bidirectional streams then read items at `… `, one per line, until an empty line or `.end`.\n\
         Tab completes commands, methods, topics, states and parameters.",
    );
    text
}
