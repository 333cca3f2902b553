//! Reading a schema document: from a file or a server's `GET /schema`, then checking
//! that it is a volley introspection document (PROTOCOL.md section 9) of a version this
//! generator knows.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::connect::{self, Connection};

pub use volley_schema::{SchemaDocument, SUPPORTED_VERSIONS};

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
                SUPPORTED_VERSIONS.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Loads a document from `source`, a file or a server's URL (see [`schema_urls`]),
/// without headers or extra CA certificates.
pub fn load(source: &str) -> Result<SchemaDocument, LoadError> {
    load_with(source, &Connection::default())
}

/// Loads a document from `source`, a file or a server's URL (see [`schema_urls`]),
/// fetched with `connection`'s headers and CA certificates.
pub fn load_with(source: &str, connection: &Connection) -> Result<SchemaDocument, LoadError> {
    let text = fetch_text(source, connection)?;
    parse(source, &text)
}

/// Reads the raw text of a document from a URL or file, without checking it. For a
/// URL, the candidates of [`schema_urls`] are tried in turn while the server answers
/// `404 Not Found`.
pub fn fetch_text(source: &str, connection: &Connection) -> Result<String, LoadError> {
    if !is_url(source) {
        return std::fs::read_to_string(source)
            .map_err(|error| LoadError::File { path: source.to_string(), error });
    }
    let candidates = schema_urls(source);
    let agent = agent(candidates[0].starts_with("https://"), connection);
    let mut not_found = None;
    for (i, url) in candidates.iter().enumerate() {
        match http_get(&agent, url, connection) {
            // Above the path the user gave, only a volley schema will do: an
            // application's own `/schema` page is not the one they meant.
            Ok(text) if i > 0 && !looks_like_schema(&text) => {}
            Ok(text) => return Ok(text),
            Err(Failure::NotFound(reason)) => {
                not_found.get_or_insert((url.clone(), reason));
            }
            Err(Failure::Other(reason)) => return Err(LoadError::Fetch { url: url.clone(), reason }),
        }
    }
    let (url, mut reason) = not_found.expect("there is at least one candidate URL");
    if candidates.len() > 1 {
        reason.push_str(&format!(" (also tried {})", candidates[1..].join(", ")));
    }
    Err(LoadError::Fetch { url, reason })
}

/// Parses and checks a document; `source` only names it in errors.
pub fn parse(source: &str, text: &str) -> Result<SchemaDocument, LoadError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| LoadError::NotJson { source: source.to_string(), error })?;
    let not_schema = |reason: String| LoadError::NotSchema { source: source.to_string(), reason };
    let object = value.as_object().ok_or_else(|| not_schema("it is not a JSON object".into()))?;
    let version = object
        .get("volley")
        .ok_or_else(|| not_schema("it has no `volley` format version field".into()))?;
    match version.as_u64() {
        Some(v) if u32::try_from(v).is_ok_and(|v| SUPPORTED_VERSIONS.contains(&v)) => {}
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

/// The URLs to fetch the schema from for what the user gave, nearest first:
///
/// - A URL whose last path segment is `schema` (or ends in `.json`) is the schema's
///   own URL, fetched as it is: `http://host/schema`, `https://host/rpc/schema`.
/// - Any other URL is the server's: its WebSocket endpoint or its base URL, with
///   `ws://` taken as `http://` and `wss://` as `https://`. `/schema` is appended to
///   its path, and then to each shorter prefix of it: `ws://host/rpc` gives
///   `http://host/rpc/schema` (volley mounted in an axum app under `/rpc`) and then
///   `http://host/schema` (a standalone server whose WebSocket is at `.path("/rpc")`).
///
/// A query string (`?access_token=...`) is kept on every candidate; a fragment is
/// dropped.
pub fn schema_urls(source: &str) -> Vec<String> {
    let url = if let Some(rest) = source.strip_prefix("ws://") {
        format!("http://{rest}")
    } else if let Some(rest) = source.strip_prefix("wss://") {
        format!("https://{rest}")
    } else {
        source.to_string()
    };
    let url = url.split('#').next().unwrap_or_default().to_string();
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
    let (before_query, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.last().is_some_and(|last| *last == "schema" || last.ends_with(".json")) {
        return vec![url];
    }
    (0..=segments.len())
        .rev()
        .map(|n| {
            let prefix: String = segments[..n].iter().map(|s| format!("/{s}")).collect();
            format!("{scheme}://{authority}{prefix}/schema{query}")
        })
        .collect()
}

/// Whether `text` is a JSON object with a `volley` field, as a schema document is.
fn looks_like_schema(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("volley").is_some())
}

/// Why a GET failed: the server has no such document (try the next candidate), or
/// anything else (stop).
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
    fn a_bare_server_has_its_schema_at_the_root() {
        assert_eq!(schema_urls("http://127.0.0.1:9"), ["http://127.0.0.1:9/schema"]);
        assert_eq!(schema_urls("ws://127.0.0.1:9/"), ["http://127.0.0.1:9/schema"]);
        assert_eq!(schema_urls("wss://h"), ["https://h/schema"]);
        assert_eq!(schema_urls("https://[::1]:8000/"), ["https://[::1]:8000/schema"]);
    }

    #[test]
    fn schema_urls_are_fetched_as_given() {
        assert_eq!(schema_urls("http://h/schema"), ["http://h/schema"]);
        assert_eq!(schema_urls("https://h/rpc/schema"), ["https://h/rpc/schema"]);
        assert_eq!(schema_urls("ws://h/rpc/schema"), ["http://h/rpc/schema"]);
        assert_eq!(schema_urls("https://h/files/api.json"), ["https://h/files/api.json"]);
        assert_eq!(schema_urls("http://h/schema?access_token=t#x"), ["http://h/schema?access_token=t"]);
    }

    #[test]
    fn an_endpoint_at_a_path_has_its_schema_beside_it_or_above() {
        // Mounted under `/rpc`: the schema is at `/rpc/schema`. Served standalone with
        // `.path("/ws")`: at `/schema`. The nearest is tried first.
        assert_eq!(schema_urls("ws://h:1/rpc"), ["http://h:1/rpc/schema", "http://h:1/schema"]);
        assert_eq!(schema_urls("wss://h/rpc/"), ["https://h/rpc/schema", "https://h/schema"]);
        assert_eq!(schema_urls("http://h/ws"), ["http://h/ws/schema", "http://h/schema"]);
        assert_eq!(
            schema_urls("wss://h/app/rpc/ws?access_token=t"),
            [
                "https://h/app/rpc/ws/schema?access_token=t",
                "https://h/app/rpc/schema?access_token=t",
                "https://h/app/schema?access_token=t",
                "https://h/schema?access_token=t",
            ]
        );
    }

    #[test]
    fn refuses_other_documents_and_versions() {
        assert!(matches!(parse("x", "[1]"), Err(LoadError::NotSchema { .. })));
        assert!(matches!(parse("x", "{\"openapi\":\"3\"}"), Err(LoadError::NotSchema { .. })));
        assert!(matches!(parse("x", "{\"volley\":4,\"name\":\"a\"}"), Err(LoadError::UnsupportedVersion { .. })));
        assert!(matches!(parse("x", "nope"), Err(LoadError::NotJson { .. })));
        assert!(parse("x", "{\"volley\":1,\"name\":\"a\"}").is_ok());
        assert!(parse("x", "{\"volley\":2,\"name\":\"a\"}").is_ok());
        assert!(parse("x", "{\"volley\":3,\"name\":\"a\"}").is_ok());
    }
}
