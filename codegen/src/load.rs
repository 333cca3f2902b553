//! Reading a schema document: from a file or a server's `GET /schema`, then checking
//! that it is a volley introspection document (PROTOCOL.md section 9) of a version this
//! generator knows.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::connect::{self, Connection};

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

/// Loads a document from `source`, a file or a server's URL (see [`load_with`]),
/// without headers or extra CA certificates.
pub fn load(source: &str) -> Result<Document, LoadError> {
    load_with(source, &Connection::default())
}

/// Loads a document from `source`: an `http://` or `https://` URL (of `/schema`, or of
/// the server itself, in which case `/schema` is appended; `ws(s)://` is taken as
/// `http(s)://`) or a file path, fetched with `connection`'s headers and CA certificates.
pub fn load_with(source: &str, connection: &Connection) -> Result<Document, LoadError> {
    let text = fetch_text(source, connection)?;
    parse(source, &text)
}

/// Reads the raw text of a document from a URL or file, without checking it.
pub fn fetch_text(source: &str, connection: &Connection) -> Result<String, LoadError> {
    if !is_url(source) {
        return std::fs::read_to_string(source)
            .map_err(|error| LoadError::File { path: source.to_string(), error });
    }
    let url = schema_url(source);
    let agent = agent(url.starts_with("https://"), connection);
    http_get(&agent, &url, connection)
        .map_err(|(Failure::NotFound(reason) | Failure::Other(reason))| LoadError::Fetch { url, reason })
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

/// Why a GET failed: the server has no such document, or anything else.
enum Failure {
    NotFound(String),
    Other(String),
}

/// The HTTP client for schema fetches: a 10 second limit per request, and for https
/// the system's root certificates and the connection's CA certificates.
fn agent(https: bool, connection: &Connection) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false);
    if https {
        let tls = ureq::tls::TlsConfig::builder().root_certs(connect::root_certs(connection.cacert.as_ref())).build();
        config = config.tls_config(tls);
    }
    config.build().into()
}

/// A GET of the schema document over http or https (volley servers serve it beside
/// the WebSocket), sending the connection's headers.
fn http_get(agent: &ureq::Agent, url: &str, connection: &Connection) -> Result<String, Failure> {
    let mut request = agent.get(url);
    if !connection.headers.iter().any(|h| h.name.eq_ignore_ascii_case("accept")) {
        request = request.header("Accept", "application/json");
    }
    for h in &connection.headers {
        request = request.header(h.name.as_str(), h.value.as_str());
    }
    let mut response = request.call().map_err(|e| Failure::Other(describe(&e, url, connection)))?;
    let status = response.status();
    if status.is_success() {
        return response
            .body_mut()
            .read_to_string()
            .map_err(|e| Failure::Other(format!("cannot read the answer: {e}")));
    }
    // volley answers a refusal with a plain-text body saying why, and the error's
    // code in `volley-error-code`.
    let code = response
        .headers()
        .get("volley-error-code")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(response.body_mut().as_reader(), 2048), &mut body);
    let body = String::from_utf8_lossy(&body);
    let body = body.trim();
    let mut reason = format!("the server answered `{} {}`", status.as_u16(), status.canonical_reason().unwrap_or(""));
    // A plain-text body says why; an HTML error page (from a proxy) would only be noise.
    if !body.is_empty() && !body.starts_with('<') {
        reason.push_str(&format!(": {body}"));
    }
    if let Some(code) = code {
        match volley::ErrorCode(code).name() {
            Some(name) => reason.push_str(&format!(" (volley error {name}, {code})")),
            None => reason.push_str(&format!(" (volley error {code})")),
        }
    }
    if status.as_u16() == 401 || status.as_u16() == 403 {
        if let Some(c) = challenge {
            reason.push_str(&format!("; it asks for `{c}`"));
        }
        reason.push_str(if connection.headers.is_empty() {
            "; pass credentials with -H 'Name: value', as in -H 'Authorization: Bearer TOKEN'"
        } else {
            "; the server refused the credentials given with -H"
        });
    }
    if status.as_u16() == 404 {
        Err(Failure::NotFound(reason))
    } else {
        Err(Failure::Other(reason))
    }
}

/// A failed request in words: a refused certificate says what is wrong with it.
fn describe(error: &ureq::Error, url: &str, connection: &Connection) -> String {
    let rustls_error = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(rest))
        .map(|authority| match authority.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        })
        .unwrap_or(url)
        .trim_start_matches('[')
        .trim_end_matches(']');
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert)) => connect::explain_certificate(
            cert,
            host,
            connection.cacert.as_ref().map(|c| c.path.as_path()),
        ),
        Some(other) => format!("the TLS handshake failed: {other}"),
        None => error.to_string(),
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
}
