//! The `volley` command line: `volley generate <language>`, `volley schema`, `volley
//! call`, `volley listen` (topics and states as JSON lines), `volley console URL` (an
//! interactive console on a live server), `volley describe [NAME]` (a service's
//! signatures and types, for people), `volley docs` (its Markdown reference), `volley
//! asyncapi` (its AsyncAPI 3.0 document) and `volley diff OLD NEW` (breaking changes
//! between two schemas). Every command that connects to a server takes the same
//! connection options ([`ConnectArgs`]: `-H 'Name: value'`, `--cacert FILE`).
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::connect::ConnectArgs;
use crate::ir::Service;
use crate::output::{write_all, GenerateError, Settings};
use crate::{load, python, typescript, Language};

/// Generates typed client SDKs from a volley server's schema.
#[derive(Debug, Parser)]
#[command(name = "volley", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// What `--schema` and `volley schema` accept, shown in their help.
const SCHEMA_SOURCES: &str = "\
A schema file, or a server's URL:
  http(s)://host/schema, .../rpc/schema   the schema itself, fetched as it is
  ws(s)://host/, http(s)://host           a server: its schema is at /schema
  ws(s)://host/rpc                        an endpoint at a path: /rpc/schema is tried
                                          (volley mounted in an app under /rpc), then
                                          /schema (a server with .path(\"/rpc\"))
ws:// is fetched over http://, wss:// over https://; a query string is kept.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a client SDK from a schema file or a live server's schema.
    Generate {
        /// The SDK's language.
        language: LanguageArg,
        /// The schema: a file, or a server's http(s):// or ws(s):// URL (--help lists them).
        #[arg(long, value_name = "FILE|URL", long_help = format!("The schema. {SCHEMA_SOURCES}"))]
        schema: String,
        /// The folder to write the package to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// The package's name (default: derived from the service's name).
        #[arg(long)]
        package_name: Option<String>,
        /// The package's version (default: the service's version).
        #[arg(long)]
        package_version: Option<String>,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Print a service as an AsyncAPI 3.0.0 document (the same as a server's
    /// `GET /asyncapi.json`), for tools that read AsyncAPI.
    Asyncapi {
        /// The schema: a file, or a server's http(s):// or ws(s):// URL (--help lists them).
        #[arg(long, value_name = "FILE|URL", long_help = format!("The schema. {SCHEMA_SOURCES}"))]
        schema: String,
        /// The WebSocket endpoint the document names as its server (default: the server
        /// --schema was fetched from; for a file, ws://localhost:8000/).
        #[arg(long, value_name = "URL")]
        server_url: Option<String>,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// List every change between two schemas and whether it breaks existing clients.
    /// Exits 0 when nothing breaks, 1 when something does, 2 when a schema cannot be
    /// read.
    #[command(after_long_help = crate::diff::rules_help())]
    Diff {
        /// The schema clients were built against: a file or a server's URL.
        #[arg(value_name = "OLD", long_help = format!("The schema clients were built against. {SCHEMA_SOURCES}"))]
        old: String,
        /// The schema to check: a file or a server's URL.
        #[arg(value_name = "NEW")]
        new: String,
        /// `text` for people, `json` for CI.
        #[arg(long, value_enum, default_value_t)]
        format: DiffFormat,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Subscribe to topics and shared states of a live server and print what arrives,
    /// one JSON value per line, until interrupted: `{"topic": name, "value": v}` for a
    /// notification, `{"state": name, "value": document}` after each change of a state
    /// (or `{"state": name, "patch": [...]}` with --patches). A name the schema lists as a
    /// state is a state; any other is a topic, and `chat.*` or `*` match many. Exits 1
    /// when the server goes away, unless --reconnect.
    Listen {
        /// The server's ws(s):// or http(s):// URL.
        url: String,
        /// Topics, topic patterns (`chat.*`, `*`) and shared states.
        #[arg(required = true, value_name = "TOPIC|STATE")]
        names: Vec<String>,
        /// Print each state change as its JSON Patch instead of the whole document.
        #[arg(long)]
        patches: bool,
        /// When the connection ends, connect again and subscribe again.
        #[arg(long)]
        reconnect: bool,
        /// Speak MessagePack instead of JSON.
        #[arg(long)]
        msgpack: bool,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Print a server's schema document (or check and print a schema file).
    Schema {
        /// The server's http(s):// or ws(s):// URL, or a schema file.
        #[arg(value_name = "URL|FILE", long_help = SCHEMA_SOURCES)]
        url: String,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Describe a service for people: its methods (one signature each, by namespace),
    /// topics, shared states and state machines; or, given a NAME, that method, topic,
    /// state, machine, named type or namespace in full, with its docs and the types it
    /// uses. Exits 1 when NAME names nothing, listing the closest names.
    Describe {
        /// The server's http(s):// or ws(s):// URL, or a schema file.
        #[arg(value_name = "URL|FILE", long_help = SCHEMA_SOURCES)]
        url: String,
        /// A method, topic, state, machine, named type or namespace, such as `calc.evaluate`.
        name: Option<String>,
        /// `text` for people; `json` prints NAME's entry in the schema (or the whole
        /// document).
        #[arg(long, value_enum, default_value_t)]
        format: crate::describe::Format,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Write a Markdown API reference of a service (`index.md`): every method with its
    /// signature, docs, parameters, result, errors and deprecation, by namespace; then
    /// topics, shared states, state machines, named types and error codes.
    Docs {
        /// The schema: a file, or a server's http(s):// or ws(s):// URL (--help lists them).
        #[arg(long, value_name = "FILE|URL", long_help = format!("The schema. {SCHEMA_SOURCES}"))]
        schema: String,
        /// The folder to write the reference to (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    /// Call a method of a live server. Stream items from the server print one JSON
    /// value per line; items to send for client and bidirectional streams are read from
    /// stdin, one JSON value per line. Exits 1 on an error, printing the server's error
    /// code, name, message and data.
    /// An interactive console on a live server: call methods (`add a=1 b=2` or
    /// `add {"a": 1, "b": 2}`) in any call shape, subscribe to topics and shared states
    /// and see them arrive above the prompt, publish, `describe`. Tab completes names
    /// from the server's schema; `help` lists the commands. Exits 1 when the server
    /// goes away.
    Console {
        /// The server's ws(s):// or http(s):// URL.
        url: String,
        /// Speak MessagePack instead of JSON.
        #[arg(long)]
        msgpack: bool,
        /// Where to keep the history of lines typed (default:
        /// $XDG_STATE_HOME/volley/console_history, else
        /// ~/.local/state/volley/console_history); one that cannot be written is skipped.
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        #[command(flatten)]
        conn: ConnectArgs,
    },
    Call {
        /// The server's ws(s):// or http(s):// URL.
        url: String,
        /// The method's name, e.g. `calc.evaluate`.
        method: String,
        /// The parameters as a JSON object (default `{}`).
        params: Option<String>,
        /// Speak MessagePack instead of JSON.
        #[arg(long)]
        msgpack: bool,
        /// Client metadata, `key=value`; repeatable.
        #[arg(short, long = "metadata", value_name = "KEY=VALUE")]
        metadata: Vec<String>,
        /// The call's timeout in milliseconds, sent to the server.
        #[arg(long, value_name = "MS")]
        timeout_ms: Option<u64>,
        /// Print leading metadata and trailers on stderr.
        #[arg(short, long)]
        verbose: bool,
        #[command(flatten)]
        conn: ConnectArgs,
    },
}

/// How `volley diff` writes its report.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum DiffFormat {
    /// One line per change, breaking ones first, then the counts.
    #[default]
    Text,
    /// One JSON document: `{"breaking", "compatible", "changes": [{"level", "rule", "subject", "path", "message"}]}`.
    Json,
}

/// The languages `volley generate` accepts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LanguageArg {
    /// TypeScript (npm package, ES modules).
    Typescript,
    /// Python.
    Python,
}

impl From<LanguageArg> for Language {
    fn from(l: LanguageArg) -> Language {
        match l {
            LanguageArg::Typescript => Language::TypeScript,
            LanguageArg::Python => Language::Python,
        }
    }
}

/// Renders the SDK of `service` in `language`.
pub fn generate(language: Language, service: &Service, settings: &Settings) -> Result<Vec<crate::OutputFile>, GenerateError> {
    match language {
        Language::TypeScript => typescript::generate(service, settings),
        Language::Python => python::generate(service, settings),
    }
}

/// Ends a command with an exit status other than 0 or 1, or with 1 without an error
/// message (the command printed its report).
#[derive(Debug)]
pub struct Exit {
    /// The process's exit status.
    pub status: u8,
    /// Printed on stderr after `error: `, when set.
    pub message: Option<String>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(message) => f.write_str(message),
            None => write!(f, "exit status {}", self.status),
        }
    }
}

impl std::error::Error for Exit {}

/// Runs the command line; errors are printed to stderr.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Exit>() => {
            let exit = e.downcast_ref::<Exit>().expect("checked");
            if let Some(message) = &exit.message {
                eprintln!("error: {message}");
            }
            ExitCode::from(exit.status)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The WebSocket endpoint of the server a schema URL names (`http://host/rpc/schema`:
/// `ws://host/rpc`); `None` for a file, or a URL of a `.json` file.
fn endpoint_of(source: &str) -> Option<String> {
    let (scheme, rest) = source.split_once("://")?;
    let scheme = match scheme {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    if path.ends_with(".json") {
        return None;
    }
    let path = path.strip_suffix("/schema").unwrap_or(path);
    Some(format!("{scheme}://{authority}{}", if path.is_empty() { "/" } else { path }))
}

fn execute(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Console { url, msgpack, history, conn } => {
            let connection = conn.connection()?;
            crate::console::run(crate::console::ConsoleArgs { url, msgpack, connection, history })
        }
        Command::Call { url, method, params, msgpack, metadata, timeout_ms, verbose, conn } => {
            let params: serde_json::Value = match params {
                Some(p) => serde_json::from_str(&p).map_err(|e| format!("the parameters are not JSON: {e}"))?,
                None => serde_json::json!({}),
            };
            let metadata = metadata
                .iter()
                .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).ok_or_else(|| format!("metadata `{kv}` is not KEY=VALUE")))
                .collect::<Result<Vec<_>, _>>()?;
            // Read the CA file first, so that a bad one is named as such.
            let connection = conn.connection()?;
            let args = crate::call::CallArgs {
                connection,
                url,
                method,
                params,
                msgpack,
                metadata,
                timeout: timeout_ms.map(std::time::Duration::from_millis),
                verbose,
            };
            crate::call::run(args).map_err(|e| e.to_string().into())
        }
        Command::Diff { old, new, format, conn } => {
            let connection = conn.connection().map_err(|e| Exit { status: 2, message: Some(e.to_string()) })?;
            let load = |source: &str| load::load_with(source, &connection).map_err(|e| Exit { status: 2, message: Some(e.to_string()) });
            let (old, new) = (load(&old)?, load(&new)?);
            let changes = crate::diff::diff(&old, &new);
            match format {
                DiffFormat::Text => print!("{}", crate::diff::render_text(&changes)),
                DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&crate::diff::render_json(&changes))?),
            }
            if crate::diff::breaking_count(&changes) > 0 {
                return Err(Exit { status: 1, message: None }.into());
            }
            Ok(())
        }
        Command::Listen { url, names, patches, reconnect, msgpack, conn } => {
            let args = crate::listen::ListenArgs { url, names, patches, reconnect, msgpack, connection: conn.connection()? };
            crate::listen::run(args).map_err(Into::into)
        }
        Command::Schema { url, conn } => {
            let text = load::fetch_text(&url, &conn.connection()?)?;
            let doc: serde_json::Value = serde_json::from_str(&text)?;
            load::parse(&url, &text)?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
        Command::Describe { url, name, format, conn } => {
            let doc = load::load_with(&url, &conn.connection()?).map_err(|e| crate::describe::explain(&url, e))?;
            print!("{}", crate::describe::describe(doc, name.as_deref(), format)?);
            Ok(())
        }
        Command::Docs { schema, out, conn } => {
            let doc = load::load_with(&schema, &conn.connection()?).map_err(|e| crate::describe::explain(&schema, e))?;
            let files = crate::docs::generate(&crate::describe::Catalogue::new(doc)?)?;
            write_all(&out, &files)?;
            eprintln!("wrote {} to {}", files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>().join(", "), out.display());
            Ok(())
        }
        Command::Generate { language, schema, out, package_name, package_version, conn } => {
            let doc = load::load_with(&schema, &conn.connection()?)?;
            let service = Service::from_document(&doc)?;
            let mut settings = Settings::new();
            settings.package_name = package_name;
            settings.package_version = package_version;
            let files = generate(language.into(), &service, &settings)?;
            write_all(&out, &files)?;
            eprintln!("wrote {} files to {}", files.len(), out.display());
            Ok(())
        }
        Command::Asyncapi { schema, server_url, conn } => {
            let doc = load::load_with(&schema, &conn.connection()?)?;
            let server_url = server_url.or_else(|| endpoint_of(&schema));
            println!("{}", serde_json::to_string_pretty(&volley_schema::asyncapi(&doc, server_url.as_deref()))?);
            Ok(())
        }
    }
}
