//! `volley listen`: subscribes to topics and shared states of a live server and prints
//! what arrives as JSON lines, until interrupted.
//!
//! Each name is a shared state when the server's schema lists it as one, and a topic
//! otherwise (`chat.*` and `*` are topic patterns, PROTOCOL.md section 10). A topic's
//! notification prints as `{"topic": name, "value": v}`; a state's change prints the
//! whole document after the patch, `{"state": name, "value": doc}`, or with
//! `--patches` the patch itself, `{"state": name, "patch": [...]}`. Warnings about the
//! connection go to stderr, so stdout holds only data.
//!
//! When the server goes away, `listen` says so and exits 1; with `--reconnect` it
//! connects again (waiting longer after each failure, up to 10 s), subscribes again,
//! and goes on: each state then starts again with a full document.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::{json, Value};
use volley::{Encoding, Notification};

use crate::connect::{self, Connection};

/// What to listen to, and how.
#[derive(Debug)]
pub struct ListenArgs {
    /// The server's ws(s):// or http(s):// URL.
    pub url: String,
    /// Topics, topic patterns and state names.
    pub names: Vec<String>,
    /// Print state patches instead of whole documents.
    pub patches: bool,
    /// Connect again when the connection ends.
    pub reconnect: bool,
    /// Speak MessagePack instead of JSON.
    pub msgpack: bool,
    /// Headers and CA certificates.
    pub connection: Connection,
}

/// Runs until interrupted, or until the server goes away without `--reconnect`.
pub fn run(args: ListenArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(listen(args))
}

/// The names split into topics and states by the schema, with a warning on stderr for
/// a name that is neither (it is subscribed to anyway: a server may publish topics it
/// does not declare).
fn classify(schema: &Value, names: &[String]) -> (Vec<String>, Vec<String>) {
    let listed = |key: &str| -> Vec<String> {
        schema[key].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect()
    };
    let (topics, states) = (listed("topics"), listed("states"));
    let (mut to_topics, mut to_states) = (Vec::new(), Vec::new());
    for name in names {
        if states.contains(name) {
            to_states.push(name.clone());
            continue;
        }
        let pattern = name == "*" || name.ends_with(".*");
        if !pattern && !topics.contains(name) {
            let known = topics.iter().chain(&states).map(String::as_str);
            let hint = match crate::suggest::closest(name, known).as_slice() {
                [] => String::new(),
                close => format!(" (did you mean {}?)", close.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")),
            };
            eprintln!("warning: the schema lists no topic or state `{name}`{hint}; listening to it as a topic anyway");
        }
        to_topics.push(name.clone());
    }
    (to_topics, to_states)
}

async fn listen(args: ListenArgs) -> Result<(), String> {
    if args.names.is_empty() {
        return Err("name at least one topic or state to listen to".into());
    }
    let encoding = if args.msgpack { Encoding::MsgPack } else { Encoding::Json };
    let mut backoff = Duration::from_millis(200);
    let mut connected_once = false;
    loop {
        let mut client = match connect::open(&args.url, encoding, &args.connection).await {
            Ok(c) => c,
            Err(e) if !args.reconnect || !connected_once => return Err(e),
            Err(e) => {
                eprintln!("# {e}; trying again in {} ms", backoff.as_millis());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let schema: Value = client.call("volley.introspect", &json!({})).await.map_err(|e| format!("cannot read the schema: {}", e.message))?;
        let (topics, states) = classify(&schema, &args.names);
        let mut notifications = client.notifications().ok_or("the client has no notification receiver")?;
        client
            .call::<()>("volley.subscribe", &json!({"topics": topics, "states": states}))
            .await
            .map_err(|e| format!("cannot subscribe: {}", e.message))?;
        if connected_once {
            eprintln!("# connected again to {}", args.url);
        }
        connected_once = true;
        backoff = Duration::from_millis(200);
        let mut documents: HashMap<String, Value> = HashMap::new();
        let stdout = std::io::stdout();
        loop {
            let next = tokio::select! {
                biased; // what arrived before the connection ended is printed first
                n = notifications.recv() => n,
                _ = client.peer().closed() => None,
            };
            let Some(notification) = next else { break };
            let line = match notification {
                Notification::Topic { topic, value } => json!({"topic": topic, "value": value}),
                Notification::State { name, patch } if args.patches => json!({"state": name, "patch": patch}),
                Notification::State { name, patch } => {
                    let doc = documents.entry(name.clone()).or_insert(Value::Null);
                    if let Err(e) = volley::apply_patch(doc, &patch) {
                        eprintln!("warning: a patch of state `{name}` does not apply ({}); waiting for the next full document", e.message);
                        continue;
                    }
                    json!({"state": name, "value": doc})
                }
                Notification::Connection { warning, code, message, data } => {
                    let what = if warning { "warning" } else { "error" };
                    let name = code.name().unwrap_or("APPLICATION");
                    let data = data.map(|d| format!(" {d}")).unwrap_or_default();
                    eprintln!("# {what} from the server: {name} ({}): {message}{data}", code.0);
                    continue;
                }
            };
            let mut out = stdout.lock();
            if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                return Ok(()); // stdout closed (`volley listen ... | head`)
            }
        }
        if !args.reconnect {
            return Err(format!("the server closed the connection ({}); pass --reconnect to keep listening", args.url));
        }
        eprintln!("# the server closed the connection; connecting again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_schema_lists_as_states_are_states_and_the_rest_topics() {
        let schema = json!({"topics": [{"name": "news"}], "states": [{"name": "stock"}]});
        let names: Vec<String> = ["news", "stock", "chat.*", "*"].map(String::from).to_vec();
        let (topics, states) = classify(&schema, &names);
        assert_eq!((topics, states), (vec!["news".to_owned(), "chat.*".into(), "*".into()], vec!["stock".to_owned()]));
    }
}
