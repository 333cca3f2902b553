//! The standalone server: accepts TCP (and TLS) connections, caps them, bounds their
//! HTTP phase, and serves the router of [`app`] on each; draining on shutdown.
//!
//! The HTTP surface itself (the WebSocket endpoint, `/schema`, `/asyncapi.json`,
//! `/healthz`, `/metrics`, routes and static files) is an axum `Router`
//! ([`Server::router`]), which an application can mount in its own axum app instead.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

mod app;
mod docs;
mod forwarded;
mod upgrade;

pub use forwarded::BadProxy;

use crate::connection::{self, Limits, Peer};
use crate::protocol::Frame;
use crate::router::{Router, Routes};
use crate::schema::SubscribeParams;
use crate::Error;

/// A volley server: serves a [`Router`] over WebSocket, with its schema (`GET /schema`),
/// the same service as an AsyncAPI 3.0.0 document (`GET /asyncapi.json`) and a health
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
    http: app::Http,
    handshake_timeout: Duration,
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
    /// Places under the connection cap: one per TCP connection in the standalone
    /// server, one per WebSocket when mounted in another server.
    sockets: Mutex<Arc<Semaphore>>,
    drain_timeout: Mutex<Duration>,
}

/// Who may connect: settings read on every upgrade, set before or while serving.
#[derive(Debug, Default)]
struct Policy {
    proxies: forwarded::TrustedProxies,
    /// `None`: any origin.
    origins: Option<Vec<String>>,
}

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
                            // (This connection's own states first, each under its own lock.)
                            let shared: Vec<String> = p.states.into_iter().filter(|name| !crate::shared_state::subscribed(conn, name)).collect();
                            let docs = conn.routes.shared_states.docs.lock().unwrap();
                            let mut subs = conn.subscriptions.lock().unwrap();
                            for name in shared {
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
                sockets: Mutex::new(Arc::new(Semaphore::new(default_max_connections()))),
                drain_timeout: Mutex::new(Duration::from_secs(30)),
            });
        Server { shared, http: app::Http::default(), handshake_timeout: Duration::from_secs(10), tls: None }
    }

    /// Serves the WebSocket endpoint at `path` instead of `/` (`/ws`, say). A plain
    /// `GET` there is answered `426 Upgrade Required`. The schema is then at both
    /// `/schema` and `{path}/schema`, where clients that know only the endpoint's URL
    /// look for it, and the AsyncAPI document at `/asyncapi.json` and
    /// `{path}/asyncapi.json`.
    ///
    /// # Panics
    ///
    /// If `path` does not start with `/`, or is one the server serves itself
    /// (`/schema`, `/asyncapi.json`, `/healthz`, `/metrics`, `/docs`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        assert!(path.starts_with('/'), "the WebSocket path must start with `/`, got `{path}`");
        assert!(!app::RESERVED.contains(&path.as_str()), "`{path}` is served by volley itself; pick another WebSocket path");
        self.http.ws_path = path;
        self
    }

    /// Serves `GET path` (or any method the [`MethodRouter`](axum::routing::MethodRouter)
    /// has) with an axum handler, which can take the request's headers, query, remote
    /// address (`ConnectInfo<SocketAddr>`) and anything else axum extracts:
    ///
    /// ```no_run
    /// # fn f(server: volley::Server) -> volley::Server {
    /// use volley::axum::{http::HeaderMap, routing::get};
    /// server.route("/health", get(|headers: HeaderMap| async move {
    ///     format!("ok, user agent {:?}\n", headers.get("user-agent"))
    /// }))
    /// # }
    /// ```
    ///
    /// Routes are behind the connection hooks' `before_connection` (so an
    /// authentication hook guards them as it guards the WebSocket).
    ///
    /// # Panics
    ///
    /// As axum does, when `path` is taken or not a valid route.
    pub fn route(mut self, path: &str, handler: axum::routing::MethodRouter) -> Self {
        self.http.routes = std::mem::take(&mut self.http.routes).route(path, handler);
        self
    }

    /// Adds every route of an axum `Router` (with its own layers) to the server.
    pub fn routes(mut self, routes: axum::Router) -> Self {
        self.http.routes = std::mem::take(&mut self.http.routes).merge(routes);
        self
    }

    /// Serves the files under `dir` for every path no route claims, with content types
    /// from their extensions, `index.html` for directories, and `404` for what is not
    /// there. A plain `GET /` is redirected to `/index.html` (see
    /// [`index`](Self::index)). Behind the connection hooks, as routes are.
    pub fn static_files(mut self, dir: impl Into<PathBuf>) -> Self {
        self.http.static_dir = Some(dir.into());
        self
    }

    /// Where a plain `GET /` is redirected when there are static files (default
    /// `/index.html`); `None` turns the redirect off.
    pub fn index(mut self, path: Option<&str>) -> Self {
        self.http.index = path.map(str::to_owned);
        self
    }

    /// Serves Prometheus metrics at `GET /metrics` (off by default): connections,
    /// calls by method and code, call durations, stream items, bytes, credit stalls and
    /// missed heartbeats (the names are in [`crate::metrics`]). Installs volley's
    /// Prometheus recorder as the process's `metrics` recorder, unless one is installed
    /// already (then `/metrics` answers `503` and says so, and volley's metrics go to
    /// that recorder).
    pub fn metrics(mut self) -> Self {
        crate::metrics::install();
        self.http.metrics = true;
        self
    }

    /// The server's HTTP surface as an axum `Router`, to serve volley inside an axum
    /// application, at a path of its choosing and behind its own middleware:
    ///
    /// ```no_run
    /// # async fn run(router: volley::Router) -> std::io::Result<()> {
    /// use std::net::SocketAddr;
    /// use volley::axum::{routing::get, Router};
    ///
    /// let volley = volley::Server::new(router);
    /// let app = Router::new()
    ///     .route("/", get(|| async { "the application" }))
    ///     .nest("/rpc", volley.router()); // ws://host/rpc, /rpc/schema, /rpc/asyncapi.json, /rpc/healthz
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    /// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
    ///     .with_graceful_shutdown(volley.drain_after(async { let _ = tokio::signal::ctrl_c().await; }))
    ///     .await
    /// # }
    /// ```
    ///
    /// Nested at `/rpc`, the endpoint is `ws://host/rpc` exactly (axum's `nest` does not
    /// route `/rpc/` to it).
    ///
    /// Everything a connection does behaves as in the standalone server (limits,
    /// heartbeats, hooks, origins, proxies, draining). What the standalone server does
    /// per TCP connection is the application's: TLS, the handshake timeout, and the
    /// connection cap, which here counts WebSockets ([`tls`](Self::tls) and
    /// [`handshake_timeout`](Self::handshake_timeout) do nothing here). `/healthz` and
    /// `/metrics` are behind the application's middleware too: let load balancers and
    /// scrapers past its authentication. The remote address needs
    /// `into_make_service_with_connect_info::<SocketAddr>()`; without it
    /// [`Context::remote_addr`](crate::Context::remote_addr) is `None`.
    pub fn router(&self) -> axum::Router {
        let _ = self.shared.routes.server.set(Arc::downgrade(&self.shared));
        app::router(self.shared.clone(), self.http.clone())
    }

    /// Waits for `signal`, then drains as [`serve_with_shutdown`](Self::serve_with_shutdown)
    /// does and completes when every connection is closed: the future to hand to
    /// axum's `with_graceful_shutdown` when volley is mounted in an axum app. Until it
    /// completes axum keeps accepting, so `/healthz` answers `503` meanwhile.
    pub fn drain_after(&self, signal: impl Future<Output = ()> + Send + 'static) -> impl Future<Output = ()> + Send + 'static {
        let shared = self.shared.clone();
        async move {
            signal.await;
            shared.drain().await;
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
    pub fn max_connections(self, max: usize) -> Self {
        *self.shared.sockets.lock().unwrap() = Arc::new(Semaphore::new(max));
        self
    }

    /// Development setting: an `INTERNAL` error from a panicking handler carries the
    /// panic's message and location, in its message and in its data
    /// (`{"panic": ..., "location": "src/lib.rs:10:5"}`). Off by default, since a panic's
    /// text can reveal what a client should not see; the log has both either way.
    pub fn panic_details(self, on: bool) -> Self {
        if on {
            crate::error::record_panic_locations();
        }
        self.shared.routes.panic_details.store(on, Ordering::Relaxed);
        self
    }

    /// How long the outcome of an ended operation is kept for `volley.operation.get`
    /// and `.wait` (default 10 minutes), and how many operations the server keeps at
    /// most, running and ended (default 10 000). Past that, the outcome that ended
    /// first is dropped to make room; when every kept operation is still running, a
    /// new call to an operation method is refused with `UNAVAILABLE`.
    pub fn operations(self, retention: std::time::Duration, capacity: usize) -> Self {
        self.shared.routes.operations.configure(retention, capacity);
        self
    }

    /// Serves the playground at `GET /docs` (on by default): a page that lists the
    /// service's methods, topics and states from its schema and calls them over
    /// WebSocket, with example parameters checked against their types as they are
    /// typed. Embedded in the binary, behind the connection hooks as `/schema` is.
    /// `docs(false)` turns it off (then `/docs` is free for a route of the application).
    pub fn docs(mut self, on: bool) -> Self {
        self.http.docs = on;
        self
    }

    /// How long a graceful shutdown waits for calls in flight (default 30 s).
    pub fn drain_timeout(self, timeout: Duration) -> Self {
        *self.shared.drain_timeout.lock().unwrap() = timeout;
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
        let gate = Gate {
            app: self.router(),
            sockets: self.shared.sockets.lock().unwrap().clone(),
            handshake_timeout: self.handshake_timeout,
            tls: self.tls.as_ref().map(|t| tokio_rustls::TlsAcceptor::from(t.0.clone())),
        };
        tokio::select! {
            _ = shutdown => {}
            _ = accept_loop(&listener, &gate) => {}
        }
        // Keep answering while draining, so load balancers and clients see the 503s.
        tokio::select! {
            _ = self.shared.drain() => {}
            _ = accept_loop(&listener, &gate) => {}
        }
        Ok(())
    }
}

impl ServerShared {
    /// Refuses new connections and calls, lets the calls in flight finish (until the
    /// drain timeout), then closes every connection with 1001 (going away).
    async fn drain(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.routes.draining.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + *self.drain_timeout.lock().unwrap();
        loop {
            let busy = self.conns.lock().unwrap().values().any(|p| p.open_calls() > 0);
            if !busy || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let peers: Vec<Peer> = self.conns.lock().unwrap().drain().map(|(_, p)| p).collect();
        for p in &peers {
            p.close_with(connection::close_code::GOING_AWAY, "the server is shutting down");
        }
        // Give each peer a moment to receive its close frame; one that does not read is
        // not waited for.
        let closed = futures_util::future::join_all(peers.iter().map(|p| p.finished()));
        let _ = tokio::time::timeout(CLOSE_GRACE, closed).await;
    }
}

/// Completes on SIGINT, or on SIGTERM where there is one (what process managers and
/// container runtimes send to stop a service): the signal [`Server::serve`] drains on,
/// for [`Server::drain_after`] in an application of one's own.
pub async fn shutdown_signal() {
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

/// What every accepted socket passes: the connection cap and the handshake timeout;
/// then it is served the app.
struct Gate {
    app: axum::Router,
    sockets: Arc<Semaphore>,
    handshake_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// A socket's place under the connection cap, held for its whole life: by its HTTP
/// phase, then handed to its WebSocket (in each of its requests' extensions).
#[derive(Clone)]
struct Ticket(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl Ticket {
    /// The place, for the WebSocket the connection becomes.
    fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().unwrap().take()
    }
}

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
async fn accept_loop(listener: &TcpListener, gate: &Gate) {
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
            crate::metrics::connection_refused("capacity");
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut tcp = tcp;
                let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(OVER_CAPACITY)).await;
            });
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = gate.app.clone();
        let ticket = Ticket(Arc::new(Mutex::new(Some(permit))));
        // The TLS handshake and the HTTP phase share one deadline.
        let deadline = tokio::time::Instant::now() + gate.handshake_timeout;
        let tls = gate.tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_http(tcp, app, remote, ticket, deadline, false).await,
                Some(acceptor) => match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => serve_http(stream, app, remote, ticket, deadline, true).await,
                    // Garbage, a plain-text client on the TLS port, a client that does
                    // not trust the certificate: nothing to answer, only to close.
                    Ok(Err(e)) => {
                        crate::metrics::connection_refused("tls");
                        tracing::debug!(%remote, "TLS handshake failed: {e}")
                    }
                    Err(_) => tracing::debug!(%remote, "handshake timeout during TLS: closed"),
                },
            }
        });
    }
}

/// Serves HTTP (and the upgrade to a WebSocket) on one connection, plain or TLS, until
/// `deadline` for everything but the WebSocket it may become. Each request carries the
/// peer's address (`ConnectInfo`, as axum's own server sets it) and the connection's
/// [`Ticket`], and, when `tls`, the [`app::Tls`] mark.
async fn serve_http<I>(io: I, app: axum::Router, remote: SocketAddr, ticket: Ticket, deadline: tokio::time::Instant, tls: bool)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use tower::ServiceExt;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(axum::extract::ConnectInfo(remote));
        req.extensions_mut().insert(ticket.clone());
        if tls {
            req.extensions_mut().insert(app::Tls);
        }
        app.clone().oneshot(req.map(axum::body::Body::new))
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

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoParams {}

impl crate::validate::Validate for NoParams {
    fn validate(&self, _: &mut crate::validate::Violations) {}
}
