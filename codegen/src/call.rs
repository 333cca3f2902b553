//! `volley call`: calls a method of a live server from the command line, in any call
//! shape, the way `curl` calls an HTTP endpoint.
//!
//! The method's shape comes from the server's own schema (`volley.introspect`). Stream
//! items from the server are printed one JSON value per line; items for a client or
//! bidirectional stream are read from stdin, one JSON value per line. Leading metadata
//! and trailers go to stderr (with `--verbose`), so stdout holds only data. Interrupting
//! it (Ctrl-C) closes the connection, which cancels the call on the server.

use std::io::{BufRead, Write};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use volley::{CallOptions, Encoding, Metadata, Streaming};

/// What to call, and how.
#[derive(Debug)]
pub struct CallArgs {
    /// The server's ws(s):// or http(s):// URL.
    pub url: String,
    /// The method's name.
    pub method: String,
    /// The parameters, as a JSON object.
    pub params: Value,
    /// Use MessagePack instead of JSON on the wire.
    pub msgpack: bool,
    /// Client metadata.
    pub metadata: Vec<(String, String)>,
    /// The call's timeout.
    pub timeout: Option<Duration>,
    /// Print leading metadata and trailers on stderr.
    pub verbose: bool,
    /// Headers for the upgrade request and the CA certificates to trust for wss://.
    pub connection: crate::connect::Connection,
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallFailure {
    /// The server answered with an error.
    Remote(volley::Error),
    /// The call could not be made.
    Local(String),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Remote(e) => {
                let name = e.code.name().unwrap_or("APPLICATION");
                write!(f, "{name} ({}): {}", e.code.0, e.message)?;
                if let Some(data) = &e.data {
                    write!(f, "\ndata: {data}")?;
                }
                Ok(())
            }
            CallFailure::Local(m) => f.write_str(m),
        }
    }
}

impl From<volley::Error> for CallFailure {
    fn from(e: volley::Error) -> Self {
        CallFailure::Remote(e)
    }
}

/// Makes the call, printing results to stdout.
pub fn run(args: CallArgs) -> Result<(), CallFailure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CallFailure::Local(format!("cannot start the runtime: {e}")))?;
    rt.block_on(call(args))
}

async fn call(args: CallArgs) -> Result<(), CallFailure> {
    if !args.params.is_object() {
        return Err(CallFailure::Local(format!("parameters must be a JSON object, as in '{{\"a\": 1}}'; got {}", args.params)));
    }
    let encoding = if args.msgpack { Encoding::MsgPack } else { Encoding::Json };
    let client = crate::connect::open(&args.url, encoding, &args.connection).await.map_err(CallFailure::Local)?;
    let schema: Value = client.call("volley.introspect", &serde_json::json!({})).await?;
    let served: Vec<&Value> = schema["methods"].as_array().into_iter().flatten().filter(|m| m["side"] != "client").collect();
    let Some(method) = served.iter().find(|m| m["name"] == args.method.as_str()) else {
        return Err(CallFailure::Local(not_found(&args.method, served.iter().filter_map(|m| m["name"].as_str()))));
    };
    let kind = method["kind"].as_str().unwrap_or("unary").to_owned();
    let mut options = CallOptions::new();
    for (k, v) in &args.metadata {
        options = options.metadata(k.clone(), v.clone());
    }
    if let Some(t) = args.timeout {
        options = options.timeout(t);
    }
    let verbose = args.verbose;
    match kind.as_str() {
        "server_stream" => {
            let items: Streaming<Value> = client.server_stream(&args.method, &args.params, options)?;
            print_stream(items, verbose).await
        }
        "client_stream" => {
            let mut call = client.client_stream::<Value, Value>(&args.method, &args.params, options)?;
            let mut lines = stdin_items();
            while let Some(item) = lines.recv().await {
                call.send(&item?).await?;
            }
            let r = call.finish().await?;
            print_meta(verbose, "leading", &r.leading);
            println!("{}", serde_json::to_string_pretty(&r.value).unwrap_or_default());
            print_meta(verbose, "trailers", &r.trailers);
            Ok(())
        }
        "bidi_stream" => {
            let (mut tx, rx) = client.bidi_stream::<Value, Value>(&args.method, &args.params, options)?;
            let printer = tokio::spawn(print_stream(rx, verbose));
            let mut lines = stdin_items();
            while let Some(item) = lines.recv().await {
                if tx.send(&item?).await.is_err() {
                    break; // the server ended the call; the printer reports why
                }
            }
            tx.finish();
            printer.await.map_err(|e| CallFailure::Local(e.to_string()))?
        }
        _ => {
            let r = client.call_with::<Value>(&args.method, &args.params, options).await?;
            print_meta(verbose, "leading", &r.leading);
            println!("{}", serde_json::to_string_pretty(&r.value).unwrap_or_default());
            print_meta(verbose, "trailers", &r.trailers);
            Ok(())
        }
    }
}

/// A method the schema does not list, refused before anything is sent, with the names
/// nearest to it.
fn not_found<'a>(method: &str, names: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = format!("the server has no method `{method}`");
    match crate::suggest::closest(method, names).as_slice() {
        [] => text.push_str(" (volley describe URL lists them)"),
        close => text.push_str(&format!("; did you mean {}?", close.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "))),
    }
    text
}

async fn print_stream(mut items: Streaming<Value>, verbose: bool) -> Result<(), CallFailure> {
    let mut printed_leading = false;
    let stdout = std::io::stdout();
    while let Some(item) = items.next().await {
        if !printed_leading {
            if let Some(m) = items.leading_metadata() {
                print_meta(verbose, "leading", m);
            }
            printed_leading = true;
        }
        let item = item?;
        let mut out = stdout.lock();
        let _ = writeln!(out, "{item}");
        let _ = out.flush();
    }
    if let Some(t) = items.trailers() {
        print_meta(verbose, "trailers", t);
    }
    Ok(())
}

fn print_meta(verbose: bool, what: &str, m: &Metadata) {
    if verbose && !m.is_empty() {
        eprintln!("# {what}: {}", serde_json::to_string(m).unwrap_or_default());
    }
}

/// Reads stdin on a thread, one JSON value per non-empty line.
fn stdin_items() -> tokio::sync::mpsc::Receiver<Result<Value, CallFailure>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let item = match line {
                Ok(l) if l.trim().is_empty() => continue,
                Ok(l) => serde_json::from_str(&l).map_err(|e| CallFailure::Local(format!("stdin line {}: not JSON: {e}", n + 1))),
                Err(e) => Err(CallFailure::Local(format!("reading stdin: {e}"))),
            };
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                break;
            }
        }
    });
    rx
}
