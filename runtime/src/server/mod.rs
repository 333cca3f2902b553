//! The HTTP + WebSocket server: upgrade and subprotocol negotiation on `/`, the schema
//! at `GET /schema`, health at `GET /healthz`, graceful shutdown.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role as WsRole, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

mod forwarded;

pub use forwarded::BadProxy;

use crate::connection::{self, Limits, Peer};
use crate::context::ConnectionInfo;
use crate::protocol::{Encoding, ErrorCode, Frame, Role};
use crate::router::{Router, Routes};
use crate::schema::SubscribeParams;
use crate::Error;

type Body = Full<Bytes>;

/// A volley server: serves a [`Router`] over WebSocket, with its schema and a health
/// check over plain HTTP.
///
/// ```no_run
/// # async fn run(router: volley::Router) -> std::io::Result<()> {
/// let server = volley::Server::new(router);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// server.serve(listener).await
/// # }
/// ```
pub struct Server {
    shared: Arc<ServerShared>,
    drain_timeout: Duration,
    handshake_timeout: Duration,
    max_connections: usize,
    tls: Option<crate::TlsConfig>,
}

pub(crate) struct ServerShared {
    routes: Arc<Routes>,
    schema_json: Bytes,
    limits: Limits,
    ws_config: WebSocketConfig,
    policy: std::sync::RwLock<Policy>,
    conns: Mutex<HashMap<u64, Peer>>,
    shutting_down: AtomicBool,
}

/// Who may connect: settings read on every upgrade, set before or while serving.
#[derive(Debug, Default)]
struct Policy {
    proxies: forwarded::TrustedProxies,
    /// `None`: any origin.
    origins: Option<Vec<String>>,
}

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

impl Server {
    /// A server for `router` with default limits.
    pub fn new(router: Router) -> Self {
        Self::with_limits(router, Limits::default())
    }

    /// A server for `router` with the given limits.
    pub fn with_limits(router: Router, limits: Limits) -> Self {
        let schema = router.schema();
        let schema_json = Bytes::from(serde_json::to_vec_pretty(&schema).expect("the schema is plain JSON"));
        let schema_value: Arc<serde_json::Value> = Arc::new(serde_json::to_value(&schema).expect("plain JSON"));
        let mut routes = router.into_routes();
        routes.add(crate::method::unary::<NoParams, serde_json::Value, _, _>(
            crate::method::MethodInfo { name: "volley.introspect", docs: "Returns the introspection document.", deprecated: None },
            <crate::Never as crate::IntoCallError>::error_schema,
            move |_, _| {
                let v = schema_value.clone();
                async move { Ok((*v).clone()) }
            },
        ));
        for (name, on) in [("volley.subscribe", true), ("volley.unsubscribe", false)] {
            routes.add(crate::method::unary::<SubscribeParams, (), _, _>(
                crate::method::MethodInfo { name, docs: "Subscriptions.", deprecated: None },
                <crate::Never as crate::IntoCallError>::error_schema,
                move |ctx, p: SubscribeParams| async move {
                    let conn = &ctx.peer().0;
                    if on {
                        let mut subs = conn.subscriptions.lock().unwrap();
                        // Subscriptions are a set: only names not held yet count.
                        let new_topics: std::collections::HashSet<&String> = p.topics.iter().filter(|t| !subs.has_topic(t)).collect();
                        let new_states: std::collections::HashSet<&String> = p.states.iter().filter(|s| !subs.states.contains(*s)).collect();
                        if subs.len() + new_topics.len() + new_states.len() > crate::topics::MAX_SUBSCRIPTIONS {
                            let path = if new_topics.is_empty() { "states" } else { "topics" };
                            return Err(Error::invalid_params(vec![crate::validate::FieldError {
                                path: path.into(),
                                message: format!("a connection holds at most {} subscriptions", crate::topics::MAX_SUBSCRIPTIONS),
                            }]));
                        }
                        // A repeated name is one subscription, removed by one unsubscribe.
                        for t in p.topics {
                            subs.add_topic(t);
                        }
                        drop(subs);
                        if !p.states.is_empty() {
                            // Holding the documents while subscribing: no patch is missed
                            // or applied twice between the snapshot and the subscription.
                            // Every subscribe sends the current document in full, a
                            // repeated one too: a client resynchronises by subscribing again.
                            let docs = conn.routes.shared_states.docs.lock().unwrap();
                            let mut subs = conn.subscriptions.lock().unwrap();
                            for name in p.states {
                                if let Some(doc) = docs.get(&name) {
                                    crate::topics::enqueue_state(conn, &name, &crate::shared_state::replace_all(doc));
                                }
                                subs.states.insert(name);
                            }
                        }
                    } else {
                        let mut subs = conn.subscriptions.lock().unwrap();
                        for t in &p.topics {
                            subs.remove_topic(t);
                        }
                        for s in &p.states {
                            subs.states.remove(s);
                        }
                    }
                    Ok(())
                },
            ));
        }
        // tungstenite's own limit is a hard cap above ours, so a frame somewhat over our
        // limit is answered with FRAME_TOO_LARGE instead of closing the connection; it is
        // also what a peer can make this end hold while reassembling one fragmented
        // message, so it stays a small multiple of the frame limit.
        let hard_cap = limits.max_frame_size.saturating_mul(4);
        // Frames queue in tungstenite's write buffer until the writer flushes once per
        // batch; with a zero-sized buffer every frame would cost its own write syscall.
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(64 << 10)
            .max_message_size(Some(hard_cap))
            .max_frame_size(Some(hard_cap));
        let shared = Arc::new(ServerShared {
                routes: Arc::new(routes),
                schema_json,
                limits,
                ws_config,
                policy: Default::default(),
                conns: Mutex::new(HashMap::new()),
                shutting_down: AtomicBool::new(false),
            });
        Server {
            shared,
            drain_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            tls: None,
        }
    }

    /// The proxies in front of the server, by address (`10.1.2.3`) or network
    /// (`10.0.0.0/8`). For a connection from one of them, the client's address
    /// ([`Context::remote_addr`](crate::Context::remote_addr), hooks) is the rightmost
    /// hop in `Forwarded` or `X-Forwarded-For` that is not a trusted proxy; hops left of
    /// it, which the client could have forged, are ignored. Connections from any other
    /// address keep their TCP peer address, whatever their headers say.
    pub fn trusted_proxies<I, S>(self, proxies: I) -> Result<Self, BadProxy>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.shared.policy.write().unwrap().proxies = forwarded::TrustedProxies::parse(proxies)?;
        Ok(self)
    }

    /// Accepts WebSocket upgrades only from these origins (`https://app.example.com`,
    /// compared without regard to case), refusing any other with `403` before a hook or
    /// handler sees it. This is what stops cross-site WebSocket hijacking of a service
    /// that authenticates by cookie: a page on another site can open a WebSocket to it,
    /// and the browser sends the cookies along, but it cannot hide its `Origin`.
    /// Requests without an `Origin` header (clients that are not browsers) are let in.
    pub fn allowed_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins = origins.into_iter().map(|o| o.into().trim_end_matches('/').to_ascii_lowercase()).collect();
        self.shared.policy.write().unwrap().origins = Some(origins);
        self
    }

    /// Serves `wss://` and `https://` instead of `ws://` and `http://`, with this
    /// certificate ([`TlsConfig::from_pem_files`](crate::TlsConfig::from_pem_files)).
    /// The TLS handshake counts against the handshake timeout.
    pub fn tls(mut self, config: crate::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// How long a connection's HTTP phase may take (default 10 s): the upgrade, or any
    /// plain HTTP request, must complete within it, so sockets that never send a
    /// request, or dribble one, are closed.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The most TCP connections served at once, WebSockets and plain HTTP together
    /// (default 10,000, or less when the process may open fewer files: the limit on
    /// open files minus 64, kept for the server's own needs). Beyond it a new
    /// connection gets `503 Service Unavailable` with `Retry-After` and is closed.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// How long a graceful shutdown waits for calls in flight (default 30 s).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// A handle for publishing notifications to subscribed connections.
    pub fn publisher(&self) -> Publisher {
        Publisher(self.shared.clone())
    }

    /// Serves until Ctrl-C (SIGINT) or, on Unix, SIGTERM, then shuts down gracefully
    /// (see [`Server::serve_with_shutdown`]).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then drains: `/healthz` and new upgrades are
    /// answered `503` (with `Retry-After`), calls in flight run to their end or until the
    /// drain timeout, new calls on open connections get `UNAVAILABLE`, and finally every
    /// connection is closed with WebSocket close code 1001 (going away).
    pub async fn serve_with_shutdown(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let _ = self.shared.routes.server.set(Arc::downgrade(&self.shared));
        let gate = Gate {
            sockets: Arc::new(tokio::sync::Semaphore::new(self.max_connections)),
            handshake_timeout: self.handshake_timeout,
            tls: self.tls.as_ref().map(|t| tokio_rustls::TlsAcceptor::from(t.0.clone())),
        };
        tokio::select! {
            _ = shutdown => {}
            _ = accept_loop(&self.shared, &listener, &gate) => {}
        }
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.routes.draining.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        let drained = async {
            loop {
                let busy = self.shared.conns.lock().unwrap().values().any(|p| p.open_calls() > 0);
                if !busy || tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        // Keep answering while draining, so load balancers and clients see the 503s.
        tokio::select! {
            _ = drained => {}
            _ = accept_loop(&self.shared, &listener, &gate) => {}
        }
        let peers: Vec<Peer> = self.shared.conns.lock().unwrap().drain().map(|(_, p)| p).collect();
        for p in &peers {
            p.close_with(connection::close_code::GOING_AWAY, "the server is shutting down");
        }
        // Give each peer a moment to receive its close frame; one that does not read is
        // not waited for.
        let closed = futures_util::future::join_all(peers.iter().map(|p| p.finished()));
        let _ = tokio::time::timeout(CLOSE_GRACE, closed).await;
        Ok(())
    }
}

/// Completes on SIGINT, or on SIGTERM where there is one (what process managers and
/// container runtimes send to stop a service).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How long a shutdown waits for connections to take their close frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// What every accepted socket passes: the connection cap and the handshake timeout.
struct Gate {
    sockets: Arc<tokio::sync::Semaphore>,
    handshake_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// A socket's place under the connection cap, held for its whole life: by its HTTP
/// phase, then handed to its WebSocket.
type Ticket = Arc<Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>;

/// The answer to a connection over the cap, written without reading its request.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nvolley-error-code: 503\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\nConnection: close\r\n\r\nvolley: too many connections; retry\r\n";

/// The default cap on connections: 10,000, less what the open-file limit leaves.
fn default_max_connections() -> usize {
    const DEFAULT: usize = 10_000;
    const RESERVED: u64 = 64;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return DEFAULT;
    }
    let usable = (limit.rlim_cur as u64).saturating_sub(RESERVED).max(1);
    DEFAULT.min(usize::try_from(usable).unwrap_or(DEFAULT))
}

/// Accepts connections and serves HTTP on each, until dropped.
async fn accept_loop(shared: &Arc<ServerShared>, listener: &TcpListener, gate: &Gate) {
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = gate.sockets.clone().try_acquire_owned() else {
            tracing::debug!(%remote, "over the connection cap: refused");
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut tcp = tcp;
                let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(OVER_CAPACITY)).await;
            });
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let ticket: Ticket = Arc::new(Mutex::new(Some(permit)));
        // The TLS handshake and the HTTP phase share one deadline.
        let deadline = tokio::time::Instant::now() + gate.handshake_timeout;
        let tls = gate.tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_http(tcp, shared, remote, ticket, deadline).await,
                Some(acceptor) => match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => serve_http(stream, shared, remote, ticket, deadline).await,
                    // Garbage, a plain-text client on the TLS port, a client that does
                    // not trust the certificate: nothing to answer, only to close.
                    Ok(Err(e)) => tracing::debug!(%remote, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%remote, "handshake timeout during TLS: closed"),
                },
            }
        });
    }
}

/// Serves HTTP (and the upgrade to a WebSocket) on one connection, plain or TLS, until
/// `deadline` for everything but the WebSocket it may become.
async fn serve_http<I>(io: I, shared: Arc<ServerShared>, remote: SocketAddr, ticket: Ticket, deadline: tokio::time::Instant)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        let ticket = ticket.clone();
        async move { Ok::<_, Infallible>(handle(shared, req, remote, &ticket)) }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service).with_upgrades();
    match tokio::time::timeout_at(deadline, conn).await {
        Ok(Err(e)) => tracing::debug!("http connection ended: {e}"),
        Ok(Ok(())) => {}
        Err(_) => tracing::debug!(%remote, "handshake timeout: closed"),
    }
}

/// Publishes notifications to every connection subscribed to a topic.
#[derive(Clone)]
pub struct Publisher(pub(crate) Arc<ServerShared>);

impl Publisher {
    /// Sends `value` on `topic` to every subscribed connection; returns how many.
    pub fn publish<T: serde::Serialize + ?Sized>(&self, topic: &str, value: &T) -> Result<usize, Error> {
        let peers: Vec<Peer> = self.0.conns.lock().unwrap().values().cloned().collect();
        let mut encoded: [Option<crate::protocol::Payload>; 2] = [None, None];
        let mut n = 0;
        for p in peers {
            if !p.0.subscriptions.lock().unwrap().wants_topic(topic) {
                continue;
            }
            let slot = &mut encoded[p.0.info.encoding as usize];
            if slot.is_none() {
                *slot = Some(p.0.encode(value)?);
            }
            let value = slot.clone().expect("just set");
            crate::topics::enqueue(&p.0, Frame::Notify { topic: topic.to_owned(), value });
            n += 1;
        }
        Ok(n)
    }

    /// Sets the shared state `name` to `value` and sends subscribed connections the JSON
    /// Patch from the previous value (the whole document to those who subscribe later).
    /// Returns how many connections were sent a patch; an unchanged value sends nothing.
    pub fn set_state<T: serde::Serialize + ?Sized>(&self, name: &str, value: &T) -> Result<usize, Error> {
        let new = serde_json::to_value(value).map_err(|e| Error::internal(format!("state `{name}` does not serialize: {e}")))?;
        let mut docs = self.0.routes.shared_states.docs.lock().unwrap();
        let patch = match docs.get(name) {
            Some(old) => serde_json::Value::Array(crate::shared_state::diff(old, &new)),
            None => crate::shared_state::replace_all(&new),
        };
        docs.insert(name.to_owned(), new);
        if patch.as_array().is_some_and(Vec::is_empty) {
            return Ok(0);
        }
        let mut n = 0;
        for p in self.peers() {
            if p.0.subscriptions.lock().unwrap().states.contains(name) {
                crate::topics::enqueue_state(&p.0, name, &patch);
                n += 1;
            }
        }
        Ok(n)
    }

    /// The current value of the shared state `name`, as JSON.
    pub fn state(&self, name: &str) -> Option<serde_json::Value> {
        self.0.routes.shared_states.docs.lock().unwrap().get(name).cloned()
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.0.conns.lock().unwrap().len()
    }

    /// The open connections, as peers the server can call (`Peer::call`), close or
    /// inspect (`Peer::open_calls`).
    pub fn peers(&self) -> Vec<Peer> {
        self.0.conns.lock().unwrap().values().cloned().collect()
    }
}

/// Tells a peer why its connection is refused after the upgrade (an `after_accept` hook
/// said no): an `ERROR` frame on id 0, then a close with code 1008 (policy violation).
async fn refuse<S>(mut ws: WebSocketStream<S>, encoding: Encoding, e: &Error)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::{coding::CloseCode, CloseFrame};
    use tokio_tungstenite::tungstenite::Message;

    let frame = Frame::Error {
        id: 0,
        error: crate::protocol::ErrorBody { code: e.code, message: e.message.clone(), data: None },
        trailers: Default::default(),
    };
    let mut buf = Vec::new();
    encoding.encode_frame(&frame, &mut buf);
    let msg = match encoding {
        Encoding::Json => Message::text(String::from_utf8(buf).unwrap_or_default()),
        Encoding::MsgPack => Message::binary(buf),
    };
    let _ = ws.send(msg).await;
    let mut reason = e.message.clone();
    while reason.len() > 120 {
        reason.pop();
    }
    let _ = ws.close(Some(CloseFrame { code: CloseCode::Policy, reason: reason.into() })).await;
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoParams {}

impl crate::validate::Validate for NoParams {
    fn validate(&self, _: &mut crate::validate::Violations) {}
}

/// `Retry-After` on refusals while the server shuts down, in seconds.
const RETRY_AFTER_SECS: &str = "5";

/// An upgrade refused before it happens (PROTOCOL.md section 1): the status that fits
/// the error's code, a `volley-error-code` header with the code, and a plain-text body.
fn refusal(e: &Error) -> Response<Body> {
    let status = match e.code {
        ErrorCode::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        ErrorCode::PERMISSION_DENIED => StatusCode::FORBIDDEN,
        ErrorCode::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut r = text(status, format!("volley: {}\n", e.message));
    r.headers_mut().insert("volley-error-code", HeaderValue::from(e.code.0));
    r
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn handle(shared: Arc<ServerShared>, req: Request<Incoming>, remote: SocketAddr, ticket: &Ticket) -> Response<Body> {
    let is_upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    match (req.method().as_str(), req.uri().path(), is_upgrade) {
        ("GET", "/", true) => upgrade(shared, req, remote, ticket),
        ("GET", "/schema", _) => {
            let mut r = Response::new(Full::new(shared.schema_json.clone()));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            r
        }
        ("GET", "/healthz", _) => {
            if shared.shutting_down.load(Ordering::SeqCst) {
                text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            } else {
                text(StatusCode::OK, "ok\n")
            }
        }
        ("GET", "/", false) => text(
            StatusCode::UPGRADE_REQUIRED,
            "volley: this is a WebSocket endpoint; connect with subprotocol volley.v1.json or volley.v1.msgpack. The schema is at /schema.\n",
        ),
        _ => text(StatusCode::NOT_FOUND, "volley: not found; try / (WebSocket), /schema or /healthz\n"),
    }
}

/// The upgrade request's headers, copied out of hyper's read buffer. hyper's header
/// values are slices of the (8 KiB) buffer the request was read into; keeping them for
/// the connection's life would keep that whole buffer too.
fn detached(headers: hyper::HeaderMap) -> hyper::HeaderMap {
    let mut out = hyper::HeaderMap::with_capacity(headers.len());
    let mut last = None;
    for (name, value) in headers {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        // A value hyper accepted but `from_bytes` would not is kept as it is.
        let copy = match HeaderValue::from_bytes(value.as_bytes()) {
            Ok(mut copy) => {
                copy.set_sensitive(value.is_sensitive());
                copy
            }
            Err(_) => value,
        };
        out.append(name, copy);
    }
    out
}

/// True for a `Sec-WebSocket-Key` of the form RFC 6455 requires: a 16-byte nonce in
/// base64, which is 22 characters, the last of them carrying 2 bits, and `==`.
fn valid_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    key.len() == 24
        && key[..21].iter().all(|c| ALPHABET.contains(c))
        && b"AQgw".contains(&key[21])
        && &key[22..] == b"=="
}

fn upgrade(shared: Arc<ServerShared>, mut req: Request<Incoming>, remote: SocketAddr, ticket: &Ticket) -> Response<Body> {
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        let mut r = text(StatusCode::UPGRADE_REQUIRED, "volley: only WebSocket version 13 (RFC 6455) is supported\n");
        r.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return r;
    }
    let offered: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let Some(encoding) = offered.iter().find_map(|p| Encoding::from_subprotocol(p)) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "volley: no supported WebSocket subprotocol offered (got: {}); offer volley.v1.json or volley.v1.msgpack in Sec-WebSocket-Protocol\n",
                if offered.is_empty() { "none".to_owned() } else { offered.join(", ") }
            ),
        );
    };
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return text(StatusCode::BAD_REQUEST, "volley: missing Sec-WebSocket-Key\n");
    };
    if !valid_key(key.as_bytes()) {
        return text(StatusCode::BAD_REQUEST, "volley: Sec-WebSocket-Key must be a 16-byte nonce in base64\n");
    }
    if shared.shutting_down.load(Ordering::SeqCst) {
        let mut r = refusal(&Error::new(ErrorCode::UNAVAILABLE, "the server is shutting down; retry on another connection"));
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        return r;
    }
    let (remote, origin_ok) = {
        let policy = shared.policy.read().unwrap();
        let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("").to_ascii_lowercase());
        let ok = match (&policy.origins, &origin) {
            (Some(allowed), Some(origin)) => allowed.iter().any(|a| a == origin),
            _ => true,
        };
        (Some(policy.proxies.client_addr(req.headers(), remote)), ok.then_some(()).ok_or(origin))
    };
    if let Err(origin) = origin_ok {
        let shown = crate::error::bounded(origin.as_deref().unwrap_or(""));
        tracing::info!(origin = ?shown, "upgrade from a forbidden origin refused");
        return refusal(&Error::new(ErrorCode::PERMISSION_DENIED, format!("origin `{shown}` is not allowed")));
    }
    if let Err(e) = shared.routes.hooks.before_connection(req.headers(), remote) {
        return refusal(&e);
    }
    let headers = detached(std::mem::take(req.headers_mut()));
    let on_upgrade = hyper::upgrade::on(req);
    let ticket = ticket.lock().unwrap().take();
    tokio::spawn(async move {
        let _ticket = ticket;
        // The setup (upgrade, WebSocket, hooks) runs boxed, so its state is freed once
        // done instead of sizing the task that waits out the connection's whole life.
        let setup = Box::pin(async {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => {
                    tracing::debug!("upgrade failed: {e}");
                    return None;
                }
            };
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), WsRole::Server, Some(shared.ws_config)).await;
            let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
            let info = ConnectionInfo { id, remote_addr: remote, headers, encoding, extensions: Default::default() };
            if let Err(e) = shared.routes.hooks.after_accept(&info) {
                tracing::info!(conn = id, "connection refused by a hook: {}", e.message);
                refuse(ws, encoding, &e).await;
                return None;
            }
            Some((id, connection::start(ws, Role::Server, info, shared.routes.clone(), shared.limits.clone())))
        });
        let Some((id, peer)) = setup.await else { return };
        shared.conns.lock().unwrap().insert(id, peer.clone());
        peer.closed().await;
        shared.conns.lock().unwrap().remove(&id);
        shared.routes.hooks.after_connection(peer.info());
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&derive_accept_key(key.as_bytes())).expect("base64"));
    h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(encoding.subprotocol()));
    res
}

