//! The server's HTTP surface as an axum `Router`: the WebSocket endpoint, `/schema`,
//! `/asyncapi.json`, `/healthz`, `/metrics`, the application's own routes and a static
//! directory.
//!
//! The standalone server serves exactly this router, and [`Server::router`] hands it to
//! an application that mounts volley in its own axum app, so both behave the same.
//!
//! [`Server::router`]: super::Server::router

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::http::StatusCode;

use super::upgrade;
use super::ServerShared;
use crate::protocol::ErrorCode;
use crate::schema::SchemaDocument;
use crate::Error;

/// What the HTTP surface serves besides the WebSocket: set on the [`Server`](super::Server).
#[derive(Clone)]
pub(super) struct Http {
    /// Where the WebSocket endpoint is; `/` by default.
    pub ws_path: String,
    /// The application's own routes.
    pub routes: axum::Router,
    /// A directory served for every path no route claims.
    pub static_dir: Option<PathBuf>,
    /// Where a plain `GET /` is redirected when there is a static directory.
    pub index: Option<String>,
    /// Serve Prometheus metrics at `/metrics`.
    pub metrics: bool,
    /// Serve the playground page at `/docs`.
    pub docs: bool,
}

impl Default for Http {
    fn default() -> Self {
        Http { ws_path: "/".into(), routes: axum::Router::new(), static_dir: None, index: Some("/index.html".into()), metrics: false, docs: true }
    }
}

/// The state of the endpoint's handlers.
pub(super) struct App {
    pub shared: Arc<ServerShared>,
    http: Http,
}

/// Paths the server itself serves, which neither the WebSocket nor a route may take.
pub(super) const RESERVED: [&str; 5] = ["/schema", "/asyncapi.json", "/healthz", "/metrics", "/docs"];

/// Marks a request that arrived over TLS (the standalone server's `tls`), so that
/// what the server says about its own URL says `wss://`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tls;

/// What `GET /asyncapi.json` is rendered from.
struct AsyncApi {
    schema: SchemaDocument,
    ws_path: String,
}

impl App {
    /// A plain request on the WebSocket path: the index of the static files, or a
    /// pointer to what the path is for.
    pub fn not_upgrade(&self, req: &Request) -> Response {
        if let (Some(_), Some(index), "/") = (&self.http.static_dir, &self.http.index, req.uri().path()) {
            return Redirect::to(index).into_response();
        }
        // Under an axum `nest`, the path this router sees is stripped of the mount point.
        let path = req.extensions().get::<axum::extract::OriginalUri>().map_or(req.uri().path(), |u| u.0.path());
        let schema = format!("{}/schema", path.trim_end_matches('/'));
        text(
            StatusCode::UPGRADE_REQUIRED,
            format!("volley: this is a WebSocket endpoint; connect with subprotocol volley.v1.json or volley.v1.msgpack. The schema is at {schema}.\n"),
        )
    }
}

/// Builds the router for `shared`, as set up by `http`.
pub(super) fn router(shared: Arc<ServerShared>, http: Http) -> axum::Router {
    let app = Arc::new(App { shared: shared.clone(), http: http.clone() });
    // Behind the connection hooks, as an upgrade is: the schema, the application's
    // routes, the static files. Health and metrics stay open to load balancers and
    // scrapers.
    let described = Arc::new(AsyncApi {
        schema: serde_json::from_slice(&shared.schema_json).expect("the schema reads back"),
        ws_path: http.ws_path.clone(),
    });
    let mut guarded = axum::Router::new()
        .route("/schema", get(schema).with_state(shared.clone()))
        .route("/asyncapi.json", get(asyncapi).with_state(described.clone()));
    // The schema is also where a client that knows only the endpoint's URL looks for it:
    // that URL with `/schema` appended (PROTOCOL.md section 1); the AsyncAPI document
    // beside it.
    if http.ws_path != "/" {
        let base = http.ws_path.trim_end_matches('/');
        guarded = guarded
            .route(&format!("{base}/schema"), get(schema).with_state(shared.clone()))
            .route(&format!("{base}/asyncapi.json"), get(asyncapi).with_state(described.clone()));
    }
    if http.docs {
        guarded = guarded.merge(super::docs::routes(&http.ws_path));
    }
    let guarded = guarded.merge(http.routes.clone());
    let mut guarded = guarded;
    guarded = match &http.static_dir {
        Some(dir) => guarded.fallback_service(tower_http::services::ServeDir::new(dir)),
        None => guarded.fallback(not_found),
    };
    let guarded = guarded.layer(axum::middleware::from_fn_with_state(shared.clone(), guard));
    let mut open = axum::Router::new()
        .route(&http.ws_path, get(upgrade::endpoint).with_state(app.clone()))
        .route("/healthz", get(healthz).with_state(shared.clone()));
    if http.metrics {
        open = open.route("/metrics", get(crate::metrics::render));
    }
    open.merge(guarded)
}

/// Runs the connection hooks' `before_connection` for a plain HTTP request, as for an
/// upgrade: a static site behind basic authentication is refused the same way as its
/// WebSocket.
async fn guard(State(shared): State<Arc<ServerShared>>, req: Request, next: Next) -> Response {
    if shared.routes.hooks.is_empty() {
        return next.run(req).await;
    }
    let remote = upgrade::client_addr(&shared, &req);
    let (mut head, body) = req.into_parts();
    if let Err(e) = shared.routes.hooks.before_connection(&mut head, remote).await {
        return refusal(&e);
    }
    next.run(Request::from_parts(head, body)).await
}

async fn schema(State(shared): State<Arc<ServerShared>>) -> Response {
    let mut r = Response::new(Body::from(shared.schema_json.clone()));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// The service as an AsyncAPI 3.0.0 document, its server the WebSocket endpoint as this
/// request reached it.
async fn asyncapi(State(described): State<Arc<AsyncApi>>, req: Request) -> Response {
    let url = endpoint_url(&req, &described.ws_path);
    let document = volley_schema::asyncapi(&described.schema, url.as_deref());
    let mut r = Response::new(Body::from(serde_json::to_vec_pretty(&document).expect("plain JSON")));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// The WebSocket endpoint's URL as seen from the request: its `Host` header, `wss`
/// over TLS, and the path where the endpoint is (under an axum `nest`, the mount point
/// too). `None` without a host, or with one that is not a plain host name or address
/// and port.
fn endpoint_url(req: &Request, ws_path: &str) -> Option<String> {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_')) {
        return None;
    }
    let scheme = if req.extensions().get::<Tls>().is_some() { "wss" } else { "ws" };
    let original = req.extensions().get::<axum::extract::OriginalUri>().map_or(req.uri().path(), |u| u.0.path());
    let mount = original.strip_suffix(req.uri().path()).unwrap_or("");
    let path = match (mount, ws_path) {
        ("", path) => path.to_owned(),
        // axum's `nest` routes the mount point itself, not a slash after it.
        (mount, "/") => mount.to_owned(),
        (mount, path) => format!("{mount}{path}"),
    };
    Some(format!("{scheme}://{host}{path}"))
}

async fn healthz(State(shared): State<Arc<ServerShared>>) -> Response {
    if shared.shutting_down.load(Ordering::SeqCst) {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
    } else {
        text(StatusCode::OK, "ok\n")
    }
}

async fn not_found(req: Request) -> Response {
    // The mount point, when this router is nested in an application's.
    let base = match (req.extensions().get::<axum::extract::OriginalUri>(), req.uri().path()) {
        (Some(original), inner) => original.0.path().strip_suffix(inner).unwrap_or("").to_owned(),
        (None, _) => String::new(),
    };
    text(StatusCode::NOT_FOUND, format!("volley: not found; try the WebSocket endpoint, {base}/schema or {base}/healthz\n"))
}

/// An upgrade or request refused (PROTOCOL.md section 1): the status that fits the
/// error's code, a `volley-error-code` header with the code, and a plain-text body.
/// A refusal for missing credentials asks for them (`WWW-Authenticate`) when the error
/// names a scheme in its data (`{"www_authenticate": "Basic realm=..."}`).
pub(super) fn refusal(e: &Error) -> Response {
    let status = match e.code {
        ErrorCode::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        ErrorCode::PERMISSION_DENIED => StatusCode::FORBIDDEN,
        ErrorCode::UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut r = text(status, format!("volley: {}\n", e.message));
    r.headers_mut().insert("volley-error-code", HeaderValue::from(e.code.0));
    let challenge = e.data.as_ref().and_then(|d| d.get("www_authenticate")).and_then(|c| c.as_str());
    if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    r
}

/// A plain-text response.
pub(super) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}
