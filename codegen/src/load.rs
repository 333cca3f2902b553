//! Reading a schema document: from a file or a server's `GET /schema`, then checking
//! that it is a volley introspection document (PROTOCOL.md section 9) of a version this
//! generator knows.

use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The document format versions this generator can read.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// The introspection document, as served at `GET /schema` (PROTOCOL.md section 9).
///
/// Schemas stay raw JSON here; [`crate::ir`] turns them into types.
#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    /// The document format version (always one of [`SUPPORTED_VERSIONS`] once loaded).
    pub volley: u64,
    /// The service's name.
    pub name: String,
    /// The service's version.
    #[serde(default)]
    pub version: Option<String>,
    /// What the service does.
    #[serde(default)]
    pub description: Option<String>,
    /// The subprotocols the server accepts.
    #[serde(default)]
    pub encodings: Vec<String>,
    /// Every method, served by the server or by its clients.
    #[serde(default)]
    pub methods: Vec<MethodDoc>,
    /// Topics the server notifies on.
    #[serde(default)]
    pub topics: Vec<TopicDoc>,
    /// Shared states the server mirrors.
    #[serde(default)]
    pub states: Vec<StateDoc>,
    /// The error codes the server may answer with.
    #[serde(default)]
    pub errors: Vec<ErrorDoc>,
    /// Named types, referenced as `#/$defs/Name`.
    #[serde(default, rename = "$defs")]
    pub defs: Map<String, Value>,
}

/// One method of the document.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodDoc {
    /// The wire name, possibly dotted (`calc.add`).
    pub name: String,
    /// Doc text.
    #[serde(default)]
    pub description: Option<String>,
    /// Null, or what to use instead.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// `"server"` or `"client"`: who serves the method.
    pub side: String,
    /// The call shape: `unary`, `server_stream`, `client_stream` or `bidi_stream`.
    pub kind: String,
    /// An object schema whose properties are the parameters.
    #[serde(default)]
    pub params: Value,
    /// The `RESULT` value's schema.
    #[serde(default)]
    pub result: Value,
    /// The schema of items the caller streams.
    #[serde(default)]
    pub input: Value,
    /// The schema of items the callee streams.
    #[serde(default)]
    pub output: Value,
    /// The schema of `data` in `APPLICATION` errors.
    #[serde(default)]
    pub error: Value,
}

/// A topic of the document.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicDoc {
    /// The topic's name.
    pub name: String,
    /// Doc text.
    #[serde(default)]
    pub description: Option<String>,
    /// The schema of the notification value.
    #[serde(default)]
    pub payload: Value,
}

/// A shared state of the document.
#[derive(Debug, Clone, Deserialize)]
pub struct StateDoc {
    /// The state's name.
    pub name: String,
    /// Doc text.
    #[serde(default)]
    pub description: Option<String>,
    /// The schema of the whole state document.
    #[serde(default)]
    pub schema: Value,
}

/// An error code of the document.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorDoc {
    /// The numeric code.
    pub code: i64,
    /// Its stable name, such as `METHOD_NOT_FOUND`.
    pub name: String,
    /// What it means.
    #[serde(default)]
    pub description: Option<String>,
}

/// Why a schema document could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read.
    File { path: String, error: std::io::Error },
    /// The server could not be reached or answered with something other than 200.
    Fetch { url: String, reason: String },
    /// The text is not JSON.
    NotJson { source: String, error: serde_json::Error },
    /// The JSON is not a volley schema document.
    NotSchema { source: String, reason: String },
    /// The document's format version is not one this generator knows.
    UnsupportedVersion { source: String, version: Value },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::File { path, error } => write!(f, "cannot read schema file {path}: {error}"),
            LoadError::Fetch { url, reason } => write!(f, "cannot fetch schema from {url}: {reason}"),
            LoadError::NotJson { source, error } => write!(f, "{source} is not JSON: {error}"),
            LoadError::NotSchema { source, reason } => {
                write!(f, "{source} is not a volley schema document: {reason}")
            }
            LoadError::UnsupportedVersion { source, version } => write!(
                f,
                "{source} has schema format version {version}; this volley reads version{} {}",
                if SUPPORTED_VERSIONS.len() == 1 { "" } else { "s" },
                SUPPORTED_VERSIONS.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads a document from `source`: an `http://` URL (of `/schema`, or of the server
/// itself, in which case `/schema` is appended; `ws://` is taken as `http://`) or a file
/// path.
pub fn load(source: &str) -> Result<Document, LoadError> {
    let text = fetch_text(source)?;
    parse(source, &text)
}

/// Reads the raw text of a document from a URL or file, without checking it.
pub fn fetch_text(source: &str) -> Result<String, LoadError> {
    if is_url(source) {
        let url = schema_url(source);
        http_get(&url).map_err(|reason| LoadError::Fetch { url, reason })
    } else {
        std::fs::read_to_string(source)
            .map_err(|error| LoadError::File { path: source.to_string(), error })
    }
}

/// Parses and checks a document; `source` only names it in errors.
pub fn parse(source: &str, text: &str) -> Result<Document, LoadError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| LoadError::NotJson { source: source.to_string(), error })?;
    let not_schema = |reason: String| LoadError::NotSchema { source: source.to_string(), reason };
    let object = value.as_object().ok_or_else(|| not_schema("it is not a JSON object".into()))?;
    let version = object
        .get("volley")
        .ok_or_else(|| not_schema("it has no `volley` format version field".into()))?;
    match version.as_u64() {
        Some(v) if SUPPORTED_VERSIONS.contains(&v) => {}
        Some(_) => {
            return Err(LoadError::UnsupportedVersion {
                source: source.to_string(),
                version: version.clone(),
            })
        }
        None => return Err(not_schema(format!("its `volley` field is {version}, not an integer"))),
    }
    serde_json::from_value(value).map_err(|e| not_schema(e.to_string()))
}

fn is_url(source: &str) -> bool {
    ["http://", "https://", "ws://", "wss://"].iter().any(|p| source.starts_with(p))
}

/// The `/schema` URL for what the user gave: a server's base URL (http or ws) or the
/// schema URL itself.
fn schema_url(source: &str) -> String {
    let url = if let Some(rest) = source.strip_prefix("ws://") {
        format!("http://{rest}")
    } else if let Some(rest) = source.strip_prefix("wss://") {
        format!("https://{rest}")
    } else {
        source.to_string()
    };
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    match after_scheme.find('/') {
        None => format!("{url}/schema"),
        Some(i) if &after_scheme[i..] == "/" => format!("{url}schema"),
        Some(_) => url,
    }
}

/// A plain HTTP/1.1 GET: volley servers serve their schema over http on the same port
/// as the WebSocket.
fn http_get(url: &str) -> Result<String, String> {
    let rest = match url.strip_prefix("http://") {
        Some(rest) => rest,
        None => {
            return Err("only http:// URLs can be fetched; save the schema with \
                        `curl -o schema.json URL` and pass the file"
                .into())
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let timeout = Duration::from_secs(10);
    let addrs = std::net::ToSocketAddrs::to_socket_addrs(&address).map_err(|e| e.to_string())?;
    let mut last = "no address found".to_string();
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e.to_string(),
        }
    }
    let mut stream = stream.ok_or(last)?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("the server answered `{status_line}`"));
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or("malformed chunked body")?;
    }
    String::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_url_appends_the_path_to_a_bare_server() {
        assert_eq!(schema_url("http://127.0.0.1:9"), "http://127.0.0.1:9/schema");
        assert_eq!(schema_url("ws://127.0.0.1:9/"), "http://127.0.0.1:9/schema");
        assert_eq!(schema_url("http://h/schema"), "http://h/schema");
    }

    #[test]
    fn refuses_other_documents_and_versions() {
        assert!(matches!(parse("x", "[1]"), Err(LoadError::NotSchema { .. })));
        assert!(matches!(parse("x", "{\"openapi\":\"3\"}"), Err(LoadError::NotSchema { .. })));
        assert!(matches!(parse("x", "{\"volley\":2,\"name\":\"a\"}"), Err(LoadError::UnsupportedVersion { .. })));
        assert!(matches!(parse("x", "nope"), Err(LoadError::NotJson { .. })));
        assert!(parse("x", "{\"volley\":1,\"name\":\"a\"}").is_ok());
    }

    #[test]
    fn dechunks() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
    }
}
