//! The Rust client: a connection to a volley server on which it makes calls of every
//! shape, serves the calls the server makes back, and receives notifications.

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::connection::{self, Limits, Peer};
use crate::context::ConnectionInfo;
use crate::protocol::{Encoding, ErrorCode, Role};
use crate::router::Router;
use crate::topics::Notification;
use crate::Error;

/// A connection to a volley server. Derefs to [`Peer`], which has the call methods.
///
/// ```no_run
/// # async fn run() -> Result<(), volley::Error> {
/// let client = volley::Client::connect("ws://127.0.0.1:8000").await?;
/// let sum: i64 = client.call("add", &serde_json::json!({"a": 1, "b": 2})).await?;
/// # Ok(()) }
/// ```
pub struct Client {
    peer: Peer,
    notifications: Option<mpsc::Receiver<Notification>>,
}

/// Settings for a client connection.
pub struct ClientBuilder {
    url: String,
    encoding: Encoding,
    router: Router,
    headers: Vec<(String, String)>,
    limits: Limits,
    notify_queue: usize,
    ca_certs: Vec<std::path::PathBuf>,
}

impl ClientBuilder {
    /// The encoding (default JSON).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Methods this client serves for the server to call.
    pub fn router(mut self, router: Router) -> Self {
        self.router = router;
        self
    }

    /// How many notifications the receiver of [`Client::notifications`] holds before
    /// later ones are dropped (default 1024, at least 2). Drops are reported to the
    /// receiver as a `DATA_LOSS` [`Notification::Connection`] with their count.
    pub fn notify_queue(mut self, n: usize) -> Self {
        self.notify_queue = n.max(2);
        self
    }

    /// A header for the upgrade request (a token, a cookie).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Trusts the CA certificates in this PEM file for `wss://`, beside the system's
    /// roots (a private CA, or a test's self-signed certificate).
    pub fn ca_cert(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_certs.push(path.into());
        self
    }

    /// Connection limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Connects.
    pub async fn connect(self) -> Result<Client, Error> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::connection(format!("bad URL {}: {e}", self.url)))?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_static(self.encoding.subprotocol()));
        for (k, v) in &self.headers {
            let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| Error::new(ErrorCode::BAD_FRAME, format!("bad header name {k}: {e}")))?;
            let value = HeaderValue::from_str(v).map_err(|e| Error::new(ErrorCode::BAD_FRAME, format!("bad header value: {e}")))?;
            request.headers_mut().insert(name, value);
        }
        // Frames wait in tungstenite's write buffer until the writer flushes once per
        // batch: with a zero-sized buffer each CALL left in its own write and segment.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(64 << 10)
            .max_message_size(Some(self.limits.max_frame_size.saturating_mul(4)));
        let connector = if request.uri().scheme_str() == Some("wss") {
            Some(tokio_tungstenite::Connector::Rustls(crate::tls::client_config(&self.ca_certs)?))
        } else {
            None
        };
        let (ws, response) = tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
            .await
            .map_err(|e| Error::connection(format!("could not connect to {}: {}", self.url, connect_error(&e))))?;
        let chosen = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
        if chosen != Some(self.encoding.subprotocol()) {
            return Err(Error::connection(format!(
                "the server did not accept subprotocol {} (it answered {:?})",
                self.encoding.subprotocol(),
                chosen
            )));
        }
        let (tx, rx) = mpsc::channel(self.notify_queue);
        let mut routes = self.router.into_routes();
        routes.on_notify = Some(tx);
        let info = ConnectionInfo {
            id: 0,
            remote_addr: None,
            headers: Default::default(),
            encoding: self.encoding,
            extensions: Default::default(),
        };
        let peer = connection::start(ws, Role::Client, info, Arc::new(routes), self.limits);
        Ok(Client { peer, notifications: Some(rx) })
    }
}

/// What went wrong connecting, in words that name the cause: a certificate that has
/// expired, is for another name, or comes from a CA nobody trusts says so.
fn connect_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use std::error::Error as _;
    // A refused upgrade: the status and what the server said about it (a volley
    // server answers in plain text, with the error's code in `volley-error-code`).
    if let tokio_tungstenite::tungstenite::Error::Http(response) = e {
        let status = response.status();
        let mut text = format!("the server refused the upgrade with HTTP {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
        if let Some(code) = response.headers().get("volley-error-code").and_then(|v| v.to_str().ok()) {
            text.push_str(&format!(" (volley error code {code})"));
        }
        let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        let body = body.trim();
        if !body.is_empty() && !body.starts_with('<') {
            text.push_str(&format!(": {}", crate::error::bounded(body)));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    text
}

impl Client {
    /// Connects with JSON and no handlers.
    pub async fn connect(url: &str) -> Result<Client, Error> {
        Self::builder(url).connect().await
    }

    /// Connects with the given encoding.
    pub async fn connect_with(url: &str, encoding: Encoding) -> Result<Client, Error> {
        Self::builder(url).encoding(encoding).connect().await
    }

    /// Settings for a connection to `url` (`ws://host:port`).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            encoding: Encoding::Json,
            router: Router::new(),
            headers: Vec::new(),
            limits: Limits::default(),
            notify_queue: 1024,
            ca_certs: Vec::new(),
        }
    }

    /// The peer handle (also reachable through `Deref`).
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Subscribes to topics (`volley.subscribe`).
    pub async fn subscribe(&self, topics: &[&str]) -> Result<(), Error> {
        self.peer.call::<()>("volley.subscribe", &serde_json::json!({ "topics": topics })).await
    }

    /// Subscribes to shared states (`volley.subscribe` with `states`). Each arrives as
    /// a [`Notification::State`] holding a JSON Patch: the first replaces the whole
    /// document, later ones change it; apply them in order with [`crate::apply_patch`].
    pub async fn subscribe_states(&self, states: &[&str]) -> Result<(), Error> {
        self.peer.call::<()>("volley.subscribe", &serde_json::json!({ "states": states })).await
    }

    /// Takes the receiver of notifications, state patches and connection notices. It
    /// holds a bounded number ([`ClientBuilder::notify_queue`]); when it is not read,
    /// later ones are dropped, and the next one there is room for comes after a
    /// `DATA_LOSS` [`Notification::Connection`] warning whose data is `{"dropped": n}`.
    pub fn notifications(&mut self) -> Option<mpsc::Receiver<Notification>> {
        self.notifications.take()
    }
}

impl Deref for Client {
    type Target = Peer;
    fn deref(&self) -> &Peer {
        &self.peer
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.peer.close();
    }
}
