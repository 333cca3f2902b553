//! The axum example: volley mounted in an existing axum application.
//!
//! Many services already are an axum app, with pages, a JSON API, tower middleware and
//! a way of knowing who is calling. This example is such an app with volley added to
//! it, served on the same port, behind the same middleware, by the same `axum::serve`:
//!
//! - The application's own routes: an HTML page at `/`, JSON at `/api/status` and
//!   `/api/me`.
//! - volley's router nested at `/rpc` ([`Server::router`](volley::Server::router)):
//!   the WebSocket at `ws://host/rpc`, the schema at `/rpc/schema`, health at
//!   `/rpc/healthz`, Prometheus metrics at `/rpc/metrics`.
//! - tower middleware around all of it: tower-http's `TraceLayer` (a log line per
//!   request, WebSocket upgrades included), `CompressionLayer` (gzip for whoever asks,
//!   the schema too), and a `CorsLayer` on the `/api` routes only (volley answers CORS
//!   for its schema itself).
//! - The application's own authentication, [`authenticate`]: an axum middleware that
//!   turns a session cookie or a bearer token into a [`User`] in the request's
//!   extensions. volley keeps an upgrade request's extensions with its connection, so
//!   the [`whoami`](fn@whoami) method reads the very `User` the middleware set: one
//!   login for the pages, the API and the RPC, and no volley hook to write.
//! - Browsers send cookies along with a WebSocket opened by any site, so upgrades are
//!   accepted only from the application's own origins
//!   ([`Server::allowed_origins`](volley::Server::allowed_origins)).
//! - One state for both sides: [`AppState`] is axum state for `/api/status` and volley
//!   state for the [`status`](fn@status) and [`watch_status`](fn@watch_status)
//!   methods, which answer the same [`Status`].
//! - Graceful shutdown ([`serve`]): on SIGINT or SIGTERM volley drains (health answers
//!   `503`, calls in flight finish, connections close with 1001), then axum stops.
//!
//! `cargo run -p axum-app` serves it on 127.0.0.1:8003 (`--addr HOST:PORT` for
//! another), with two demo sessions, `alice-session` and `bob-session`:
//!
//! ```sh
//! curl -H 'Authorization: Bearer alice-session' http://127.0.0.1:8003/api/me
//! cargo volley call -H 'Authorization: Bearer alice-session' ws://127.0.0.1:8003/rpc whoami
//! cargo volley call ws://127.0.0.1:8003/rpc status.watch '{"count": 3, "interval_ms": 500}'
//! ```
//!
//! What the standalone volley server does per TCP connection is the application's here:
//! TLS (terminate it in a proxy in front, or serve the app with a TLS acceptor of its
//! own), the handshake timeout, and the connection cap, which volley applies to
//! WebSockets only.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use volley::{model, rpc, Context, Stream};

/// Who a request comes from, as the application's session store knows them. Put in the
/// request's extensions by [`authenticate`]; axum handlers take it as
/// `Option<Extension<User>>`, volley handlers find it on their connection.
#[model]
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// The user's login name.
    pub name: String,
    /// `admin` or `member`.
    pub role: String,
}

/// The application's sessions, by token. A real application keeps them in its
/// database and makes them at login; the example starts with a fixed set.
#[derive(Clone, Default)]
pub struct Sessions(Arc<HashMap<String, User>>);

impl Sessions {
    /// Sessions with the given `token -> user` pairs.
    pub fn new(sessions: impl IntoIterator<Item = (String, User)>) -> Self {
        Sessions(Arc::new(sessions.into_iter().collect()))
    }

    /// The demo sessions: `alice-session` (an admin) and `bob-session` (a member).
    pub fn demo() -> Self {
        Self::new([
            ("alice-session".to_owned(), User { name: "alice".into(), role: "admin".into() }),
            ("bob-session".to_owned(), User { name: "bob".into(), role: "member".into() }),
        ])
    }

    /// The user whose session `token` is, if any.
    pub fn get(&self, token: &str) -> Option<User> {
        self.0.get(token).cloned()
    }
}

/// The session token a request carries: `Authorization: Bearer <token>` (programs), or
/// the `session` cookie (browsers, whose WebSocket cannot send headers).
fn session_token(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some((scheme, token)) = authorization.and_then(|v| v.trim().split_once(' ')) {
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(token.trim());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("session="))
}

/// The application's authentication middleware, around every route, volley's too.
///
/// A request with a known session gets its [`User`] in its extensions; one without a
/// session goes on anonymously (the pages, health checks and metrics are public); one
/// with an unknown session is refused with `401`. For a WebSocket upgrade that refusal
/// comes before volley sees the request, and the extensions of one let in become the
/// connection's ([`ConnectionInfo::extensions`](volley::ConnectionInfo::extensions)).
pub async fn authenticate(State(sessions): State<Sessions>, mut req: Request, next: Next) -> Response {
    if let Some(token) = session_token(req.headers()) {
        let Some(user) = sessions.get(token) else {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "unknown or expired session\n").into_response();
        };
        req.extensions_mut().insert(user);
    }
    next.run(req).await
}

/// What the application and volley share: axum state for the `/api` routes, volley
/// state for the RPC methods.
pub struct AppState {
    started: Instant,
}

impl AppState {
    /// The service's status; `volley` counts the RPC connections.
    fn status(&self, volley: Option<&volley::Publisher>) -> Status {
        Status {
            service: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            connections: volley.map_or(0, |p| p.connections() as u64),
        }
    }
}

/// The service's status, as `GET /api/status` and the `status` methods report it.
#[model]
#[derive(Clone, Debug)]
pub struct Status {
    /// The service's name.
    pub service: String,
    /// Its version.
    pub version: String,
    /// Milliseconds since it started.
    pub uptime_ms: u64,
    /// Open RPC connections.
    pub connections: u64,
}

/// Says who the connection belongs to: the user whose session cookie or bearer token
/// came with the WebSocket upgrade, as the application's middleware found it, or `null`
/// for an anonymous connection.
#[rpc]
pub async fn whoami(ctx: Context) -> Option<User> {
    ctx.extension::<User>()
}

/// The service's status: what `GET /api/status` answers, over RPC.
#[rpc]
pub async fn status(ctx: Context, app: volley::State<Arc<AppState>>) -> Status {
    app.status(ctx.publisher().as_ref())
}

/// Sends the service's status `count` times, the first at once and then every
/// `interval_ms` milliseconds. A graceful stop ends it after the status being sent.
#[rpc(name = "status.watch")]
pub async fn watch_status(
    ctx: Context,
    app: volley::State<Arc<AppState>>,
    #[validate(range(min = 1, max = 10000))] count: u32,
    #[validate(range(max = 60000))] interval_ms: u64,
) -> impl Stream<Item = Status> {
    let app = Arc::clone(&app);
    async_stream::stream! {
        for n in 0..count {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            }
            if ctx.is_stopping() {
                return;
            }
            yield app.status(ctx.publisher().as_ref());
        }
    }
}

/// The RPC side of the application: volley's router, with the shared state.
pub fn rpc_router(state: Arc<AppState>) -> volley::Router {
    volley::Router::new()
        .named(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"), "volley mounted in an axum application, behind its middleware.")
        .with_state(state)
        .rpc::<whoami>()
        .rpc::<status>()
        .rpc::<watch_status>()
}

/// How to build the application.
pub struct Settings {
    /// The origins whose pages may use the API (CORS) and open the WebSocket, as
    /// `http://host:port`; upgrades from any other `Origin` are refused with `403`.
    pub origins: Vec<String>,
    /// The sessions [`authenticate`] knows.
    pub sessions: Sessions,
    /// Serve Prometheus metrics at `/rpc/metrics`.
    pub metrics: bool,
    /// How long a shutdown waits for RPC calls in flight.
    pub drain_timeout: Duration,
}

impl Settings {
    /// Settings for the application served at `addr`: its own pages may connect (by
    /// address, and as `localhost` on a loopback address), with the demo sessions,
    /// without metrics, and a 30 s drain.
    pub fn for_addr(addr: SocketAddr) -> Self {
        let mut origins = vec![format!("http://{addr}")];
        if addr.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", addr.port()));
        }
        Settings { origins, sessions: Sessions::demo(), metrics: false, drain_timeout: Duration::from_secs(30) }
    }
}

/// The application, ready to serve: the axum router and the volley server mounted in
/// it, whose drain [`serve`] waits for on shutdown.
pub struct App {
    /// Every route, with the middleware around them.
    pub router: axum::Router,
    /// volley's server, mounted at `/rpc`.
    pub volley: volley::Server,
}

/// Builds the application: its routes, volley under `/rpc`, and the middleware.
pub fn app(settings: Settings) -> App {
    let state = Arc::new(AppState { started: Instant::now() });
    let mut volley = volley::Server::new(rpc_router(state.clone()))
        .allowed_origins(settings.origins.iter().cloned())
        .drain_timeout(settings.drain_timeout);
    if settings.metrics {
        volley = volley.metrics();
    }
    let api = axum::Router::new()
        .route("/api/status", get(api_status))
        .route("/api/me", get(api_me))
        .with_state(Api { app: state, volley: volley.publisher() })
        .layer(cors(&settings.origins));
    let router = axum::Router::new()
        .route("/", get(index))
        .merge(api)
        .nest("/rpc", volley.router())
        // Layers wrap what is above them: the last is the outermost. Every request is
        // traced, then compressed, then authenticated.
        .layer(middleware::from_fn_with_state(settings.sessions, authenticate))
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        );
    App { router, volley }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains volley:
/// `/rpc/healthz` and new upgrades answer `503`, calls in flight run to their end (or
/// the drain timeout), new calls get `UNAVAILABLE`, and every WebSocket is closed with
/// 1001 (going away). axum keeps answering until the drain is done, then finishes the
/// requests it is serving and returns.
///
/// The remote address reaches volley (`Context::remote_addr`) through
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub async fn serve(app: App, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let App { router, volley } = app;
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(volley.drain_after(shutdown))
        .await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM: volley's own.
pub use volley::shutdown_signal;

/// The state of the `/api` routes.
#[derive(Clone)]
struct Api {
    app: Arc<AppState>,
    volley: volley::Publisher,
}

/// `GET /api/status`: the same [`Status`] as the `status` method.
async fn api_status(State(api): State<Api>) -> Json<Status> {
    Json(api.app.status(Some(&api.volley)))
}

/// `GET /api/me`: the signed-in user, or `401`.
async fn api_me(user: Option<Extension<User>>) -> Response {
    match user {
        Some(Extension(user)) => Json(user).into_response(),
        None => (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "not signed in\n").into_response(),
    }
}

/// CORS for the `/api` routes: pages from `origins` may read them, with their cookies
/// or an `Authorization` header.
fn cors(origins: &[String]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok())))
        .allow_methods([Method::GET])
        .allow_headers([header::AUTHORIZATION])
        .allow_credentials(true)
}

/// `GET /`: the application's page, which greets the signed-in user and calls `whoami`
/// over the WebSocket, the browser sending the session cookie along.
async fn index(user: Option<Extension<User>>) -> Html<String> {
    let greeting = match user {
        Some(Extension(user)) => format!("Signed in as <b>{}</b> ({}).", escape(&user.name), escape(&user.role)),
        None => "Not signed in. To sign in as alice, run <code>document.cookie = \"session=alice-session\"</code> in the console and reload.".to_owned(),
    };
    Html(INDEX.replace("{greeting}", &greeting))
}

/// Text made safe to put in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>axum-app</title></head>
<body>
<h1>axum-app</h1>
<p>An axum application with volley mounted at <code>/rpc</code>.</p>
<p>{greeting}</p>
<ul>
  <li><a href="/api/status">/api/status</a>: the application's JSON API</li>
  <li><a href="/api/me">/api/me</a>: who you are signed in as</li>
  <li><a href="/rpc/schema">/rpc/schema</a>: the RPC methods</li>
  <li><a href="/rpc/healthz">/rpc/healthz</a>: health</li>
</ul>
<p>Over the WebSocket, <code>whoami</code> says: <output id="whoami">...</output></p>
<script>
  // A volley call by hand (PROTOCOL.md): CALL is [0, id, method, params], RESULT [1, id, value].
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/rpc`, "volley.v1.json");
  const out = document.getElementById("whoami");
  ws.onopen = () => ws.send(JSON.stringify([0, 1, "whoami", {}]));
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame[0] === 1 && frame[1] === 1) { out.textContent = JSON.stringify(frame[2]); ws.close(); }
  };
  ws.onerror = () => { out.textContent = "the WebSocket was refused"; };
</script>
</body>
</html>
"#;
