//! The hooks example: lifecycle hooks doing what production servers need.
//!
//! - [`TokenAuth`] authenticates connections by a bearer token (an `Authorization`
//!   header, or a `token` cookie for browsers, which cannot set headers on a
//!   WebSocket), refuses bad tokens before the upgrade, and guards `admin.` methods.
//! - [`Tracing`] gives every call a trace id (the caller's `trace-id` metadata, or a new
//!   one), returns it as leading metadata and logs each call's outcome.
//! - [`Timing`] measures every call, returns `server-timing-us` as trailing metadata and
//!   keeps per-method statistics, served by the `timings` method.
//!
//! `cargo run -p hooks` serves it on 127.0.0.1:8002 with the tokens `alice-token`
//! (role `admin`) and `bob-token` (role `user`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use volley::{model, rpc, ConnectionInfo, Context, Error, ErrorCode, HeaderMap, Hook, Metadata, Router, State};

/// Who a connection belongs to, attached to it by [`TokenAuth`].
#[model]
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// `admin` or `user`.
    pub role: String,
}

/// Authenticates connections by bearer token and guards the `admin.` namespace.
pub struct TokenAuth {
    tokens: HashMap<String, User>,
}

impl TokenAuth {
    /// Accepts the given `token -> user` pairs.
    pub fn new(tokens: impl IntoIterator<Item = (String, User)>) -> Self {
        TokenAuth { tokens: tokens.into_iter().collect() }
    }

    fn token(headers: &HeaderMap) -> Option<String> {
        if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            return Some(v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned());
        }
        headers.get_all("cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
            line.split(';').find_map(|pair| pair.trim().strip_prefix("token=").map(str::to_owned))
        })
    }
}

impl Hook for TokenAuth {
    /// A connection without a token is let in anonymously; a wrong token is refused
    /// before the upgrade with HTTP 401.
    fn before_connection(&self, headers: &HeaderMap, _: Option<SocketAddr>) -> Result<(), Error> {
        match Self::token(headers) {
            Some(t) if !self.tokens.contains_key(&t) => Err(Error::new(ErrorCode::UNAUTHENTICATED, "unknown token")),
            _ => Ok(()),
        }
    }

    /// Attaches the token's [`User`] to the connection.
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        let user = Self::token(&conn.headers).and_then(|t| self.tokens.get(&t).cloned());
        if let Some(user) = user {
            conn.extensions.lock().unwrap().insert(user);
        }
        Ok(())
    }

    /// `admin.` methods need an authenticated admin.
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        if !ctx.method().starts_with("admin.") {
            return Ok(());
        }
        match ctx.connection().extensions.lock().unwrap().get::<User>() {
            None => Err(Error::new(ErrorCode::UNAUTHENTICATED, "admin methods need a token")),
            Some(u) if u.role != "admin" => Err(Error::new(ErrorCode::PERMISSION_DENIED, format!("{} is not an admin", u.name))),
            Some(_) => Ok(()),
        }
    }
}

/// Gives every call a trace id and logs its outcome on stderr.
#[derive(Default)]
pub struct Tracing {
    next: AtomicU64,
}

impl Hook for Tracing {
    /// Keeps the caller's `trace-id`, or assigns one.
    fn before_request_metadata(&self, _: &Context, metadata: &mut Metadata) -> Result<(), Error> {
        if !metadata.contains_key("trace-id") {
            let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
            metadata.insert("trace-id".into(), format!("srv-{n:08x}"));
        }
        Ok(())
    }

    /// Returns the trace id to the caller before any data.
    fn before_leading_metadata(&self, ctx: &Context, metadata: &mut Metadata) {
        if let Some(id) = ctx.metadata_value("trace-id") {
            metadata.insert("trace-id".into(), id);
        }
    }

    fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, elapsed: Duration) {
        // Through `tracing`, whose writer never blocks a call; the client's strings are
        // logged with `?`, escaped, so a newline in a trace id cannot forge a log line.
        let trace = ctx.metadata_value("trace-id").unwrap_or_default();
        match outcome {
            Ok(()) => tracing::info!(trace = ?trace, conn = ctx.connection_id(), method = ?ctx.method(), ?elapsed, "ok"),
            Err(e) => tracing::info!(trace = ?trace, conn = ctx.connection_id(), method = ?ctx.method(), code = %e.code, message = ?e.message, ?elapsed, "failed"),
        }
    }
}

/// Per-method call statistics.
#[model]
#[derive(Clone, Default)]
pub struct MethodTiming {
    /// Calls finished.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Total time spent, in microseconds.
    pub total_us: u64,
    /// The slowest call, in microseconds.
    pub max_us: u64,
}

/// Measures every call.
#[derive(Default)]
pub struct Timing {
    started: Mutex<HashMap<(u64, u64), Instant>>,
    by_method: Mutex<BTreeMap<String, MethodTiming>>,
}

impl Timing {
    /// A snapshot of the statistics, by method.
    pub fn snapshot(&self) -> BTreeMap<String, MethodTiming> {
        self.by_method.lock().unwrap().clone()
    }
}

impl Hook for Timing {
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        self.started.lock().unwrap().insert((ctx.connection_id(), ctx.call_id()), Instant::now());
        Ok(())
    }

    /// Adds `server-timing-us`: the time from admission to the final frame.
    fn before_trailing_metadata(&self, ctx: &Context, metadata: &mut Metadata) {
        if let Some(t) = self.started.lock().unwrap().get(&(ctx.connection_id(), ctx.call_id())) {
            metadata.insert("server-timing-us".into(), t.elapsed().as_micros().to_string());
        }
    }

    fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, elapsed: Duration) {
        self.started.lock().unwrap().remove(&(ctx.connection_id(), ctx.call_id()));
        let us = elapsed.as_micros() as u64;
        let mut all = self.by_method.lock().unwrap();
        let m = all.entry(ctx.method().to_owned()).or_default();
        m.calls += 1;
        m.failures += u64::from(outcome.is_err());
        m.total_us += us;
        m.max_us = m.max_us.max(us);
    }
}

/// Says who the connection belongs to, or `null` when it is anonymous.
#[rpc]
pub async fn whoami(ctx: Context) -> Option<User> {
    ctx.extension::<User>()
}

/// Echoes `text` back after `delay_ms` milliseconds.
#[rpc]
pub async fn echo(text: String, #[validate(range(max = 10000))] delay_ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    text
}

/// Per-method call statistics gathered by the timing hook. Admins only.
#[rpc(name = "admin.timings")]
pub async fn timings(timing: State<Arc<Timing>>) -> BTreeMap<String, MethodTiming> {
    timing.snapshot()
}

/// The example's router, with the demo tokens.
pub fn router() -> Router {
    let tokens = [
        ("alice-token".to_owned(), User { name: "alice".into(), role: "admin".into() }),
        ("bob-token".to_owned(), User { name: "bob".into(), role: "user".into() }),
    ];
    let timing = Arc::new(Timing::default());
    Router::new()
        .named("hooks", env!("CARGO_PKG_VERSION"), "Token authentication, tracing and timing with lifecycle hooks.")
        .hook(TokenAuth::new(tokens))
        .hook(Tracing::default())
        .hook(timing.clone())
        .with_state(timing)
        .rpc::<whoami>()
        .rpc::<echo>()
        .rpc::<timings>()
}

/// The origins whose pages may open a WebSocket to the example: its own address. It
/// authenticates by cookie, so without this check any site a user visits could open a
/// connection with the user's cookie (cross-site WebSocket hijacking).
pub const ALLOWED_ORIGINS: [&str; 2] = ["http://127.0.0.1:8002", "http://localhost:8002"];

/// The example's server: its router, with upgrades from other origins refused.
pub fn server(origins: &[&str]) -> volley::Server {
    volley::Server::new(router()).allowed_origins(origins.iter().copied())
}
