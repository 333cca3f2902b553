//! Lifecycle hooks: observe, alter metadata, or refuse, at each step of a connection and
//! of a call, in the order the table on [`Hook`] lists.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use hyper::http::request::Parts;
use hyper::http::HeaderMap;

use crate::context::{ConnectionInfo, Context};
use crate::protocol::{Metadata, Payload};
use crate::Error;

/// A lifecycle hook. Every method has a default that does nothing, so a hook implements
/// only the steps it cares about. Steps run in this order:
///
/// | step | when | may |
/// |------|------|-----|
/// | `before_connection` | an upgrade request arrived, before the WebSocket is accepted | refuse (HTTP 401/403...) |
/// | `after_accept` | the WebSocket is open | refuse (connection closed), attach extensions |
/// | `before_request` | a call is routed, before its handler runs | refuse the call |
/// | `before_request_metadata` | client metadata arrives (with the call or in `META`) | alter it, refuse |
/// | `before_request_message` | the call's parameters are about to be decoded | refuse |
/// | `before_request_data` | each incoming stream item | refuse (ends the call) |
/// | `before_leading_metadata` | leading metadata is about to be sent | alter it |
/// | `before_response_message` | each result or stream item is about to be sent | refuse (ends the call) |
/// | `before_trailing_metadata` | the final frame is about to be sent | alter trailers |
/// | `after_request` | the call finished (result, error, cancel) | observe |
/// | `after_connection` | the connection closed | observe |
///
/// `before_connection` also runs for the standalone server's plain HTTP requests
/// (`/schema`, `/asyncapi.json`, routes, static files; not `/healthz` or `/metrics`),
/// so an authentication hook guards a whole site.
///
/// The three checks that may need to wait (on a database, a token service) have async
/// forms, [`before_connection_async`](Hook::before_connection_async),
/// [`after_accept_async`](Hook::after_accept_async) and
/// [`before_request_async`](Hook::before_request_async), which volley calls; by
/// default they run the plain ones. Implement one form or the other:
///
/// ```
/// use volley::{axum::http::request::Parts, Error, ErrorCode, Hook, HookFuture};
/// # use std::net::SocketAddr;
/// # async fn lookup(_: &str) -> Option<u64> { Some(1) }
///
/// #[derive(Clone)]
/// struct AccountId(u64);
///
/// struct TokenCheck;
///
/// impl Hook for TokenCheck {
///     fn before_connection_async<'a>(&'a self, request: &'a mut Parts, _: Option<SocketAddr>) -> HookFuture<'a> {
///         Box::pin(async move {
///             let token = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
///             let Some(id) = lookup(token).await else {
///                 return Err(Error::new(ErrorCode::UNAUTHENTICATED, "unknown token"));
///             };
///             // Kept with the connection: `ctx.connection().extensions`.
///             request.extensions.insert(AccountId(id));
///             Ok(())
///         })
///     }
/// }
/// ```
#[allow(unused_variables)]
pub trait Hook: Send + Sync + 'static {
    /// Before the WebSocket upgrade is accepted. An error refuses it with an HTTP status
    /// matching the error code (401 for `UNAUTHENTICATED`, 403 for `PERMISSION_DENIED`).
    fn before_connection(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Result<(), Error> {
        Ok(())
    }
    /// [`before_connection`](Hook::before_connection), for a check that waits, with the
    /// whole request head: its URI (a token in the query string) and its extensions.
    /// What it inserts in `request.extensions` stays with the connection
    /// ([`ConnectionInfo::extensions`]). The upgrade waits for it (within the handshake
    /// timeout).
    fn before_connection_async<'a>(&'a self, request: &'a mut Parts, remote: Option<SocketAddr>) -> HookFuture<'a> {
        Box::pin(std::future::ready(self.before_connection(&request.headers, remote)))
    }
    /// The connection is open. An error closes it.
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        Ok(())
    }
    /// [`after_accept`](Hook::after_accept), for a check that waits. No call is served
    /// on the connection until it is done.
    fn after_accept_async<'a>(&'a self, conn: &'a ConnectionInfo) -> HookFuture<'a> {
        Box::pin(std::future::ready(self.after_accept(conn)))
    }
    /// A call is about to run. An error fails it without running the handler.
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        Ok(())
    }
    /// [`before_request`](Hook::before_request), for a check that waits. The call's
    /// deadline and cancellation apply while it waits.
    fn before_request_async<'a>(&'a self, ctx: &'a Context) -> HookFuture<'a> {
        Box::pin(std::future::ready(self.before_request(ctx)))
    }
    /// Client metadata arrived. May alter it; an error fails the call.
    fn before_request_metadata(&self, ctx: &Context, metadata: &mut Metadata) -> Result<(), Error> {
        Ok(())
    }
    /// The parameters are about to be decoded.
    fn before_request_message(&self, ctx: &Context, params: &Payload) -> Result<(), Error> {
        Ok(())
    }
    /// A stream item from the caller is about to reach the handler.
    fn before_request_data(&self, ctx: &Context, item: &Payload) -> Result<(), Error> {
        Ok(())
    }
    /// Leading metadata is about to be sent (it may be empty; adding to it sends it).
    fn before_leading_metadata(&self, ctx: &Context, metadata: &mut Metadata) {}
    /// A result or stream item is about to be sent.
    fn before_response_message(&self, ctx: &Context, message: &mut Payload) -> Result<(), Error> {
        Ok(())
    }
    /// Trailing metadata is about to be sent.
    fn before_trailing_metadata(&self, ctx: &Context, metadata: &mut Metadata) {}
    /// The call is over: `Ok` for a result or a stream's end, `Err` otherwise.
    fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, elapsed: Duration) {}
    /// The connection closed.
    fn after_connection(&self, conn: &ConnectionInfo) {}
}

/// What an async check of a [`Hook`] returns: a boxed future of its verdict.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// A shared hook is a hook: register an `Arc<H>` and keep a clone to read what it
/// gathered (statistics, say).
impl<H: Hook + ?Sized> Hook for Arc<H> {
    fn before_connection(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Result<(), Error> {
        (**self).before_connection(headers, remote)
    }
    fn before_connection_async<'a>(&'a self, request: &'a mut Parts, remote: Option<SocketAddr>) -> HookFuture<'a> {
        (**self).before_connection_async(request, remote)
    }
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        (**self).after_accept(conn)
    }
    fn after_accept_async<'a>(&'a self, conn: &'a ConnectionInfo) -> HookFuture<'a> {
        (**self).after_accept_async(conn)
    }
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        (**self).before_request(ctx)
    }
    fn before_request_async<'a>(&'a self, ctx: &'a Context) -> HookFuture<'a> {
        (**self).before_request_async(ctx)
    }
    fn before_request_metadata(&self, ctx: &Context, metadata: &mut Metadata) -> Result<(), Error> {
        (**self).before_request_metadata(ctx, metadata)
    }
    fn before_request_message(&self, ctx: &Context, params: &Payload) -> Result<(), Error> {
        (**self).before_request_message(ctx, params)
    }
    fn before_request_data(&self, ctx: &Context, item: &Payload) -> Result<(), Error> {
        (**self).before_request_data(ctx, item)
    }
    fn before_leading_metadata(&self, ctx: &Context, metadata: &mut Metadata) {
        (**self).before_leading_metadata(ctx, metadata)
    }
    fn before_response_message(&self, ctx: &Context, message: &mut Payload) -> Result<(), Error> {
        (**self).before_response_message(ctx, message)
    }
    fn before_trailing_metadata(&self, ctx: &Context, metadata: &mut Metadata) {
        (**self).before_trailing_metadata(ctx, metadata)
    }
    fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, elapsed: Duration) {
        (**self).after_request(ctx, outcome, elapsed)
    }
    fn after_connection(&self, conn: &ConnectionInfo) {
        (**self).after_connection(conn)
    }
}

/// The hooks of a router, run in registration order.
#[derive(Clone, Default)]
pub(crate) struct Hooks(pub Vec<Arc<dyn Hook>>);

/// Runs one hook step inside a panic guard: a panicking hook fails the step with
/// `INTERNAL` (its call, or its connection) instead of leaving a call unanswered or
/// taking the connection down.
fn guarded<T>(step: &'static str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            tracing::error!(hook = step, "a hook panicked: {}", crate::error::panic_message(&*panic));
            Err(Error::internal("a hook failed unexpectedly"))
        }
    }
}

/// [`guarded`] for the async checks: a hook that panics, building its future or while
/// it runs, fails the step with `INTERNAL`.
async fn guarded_async<'a>(step: &'static str, check: impl FnOnce() -> HookFuture<'a>) -> Result<(), Error> {
    let verdict = match std::panic::catch_unwind(AssertUnwindSafe(check)) {
        Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    verdict.unwrap_or_else(|panic| {
        tracing::error!(hook = step, "a hook panicked: {}", crate::error::panic_message(&*panic));
        Err(Error::internal("a hook failed unexpectedly"))
    })
}

/// [`guarded`] for steps that cannot refuse: a panic is logged and the step skipped.
fn guarded_quiet(step: &'static str, f: impl FnOnce()) {
    let _ = guarded(step, || {
        f();
        Ok(())
    });
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub async fn before_connection(&self, request: &mut Parts, remote: Option<SocketAddr>) -> Result<(), Error> {
        for h in &self.0 {
            guarded_async("before_connection", || h.before_connection_async(request, remote)).await?;
        }
        Ok(())
    }
    pub async fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        for h in &self.0 {
            guarded_async("after_accept", || h.after_accept_async(conn)).await?;
        }
        Ok(())
    }
    pub async fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        for h in &self.0 {
            guarded_async("before_request", || h.before_request_async(ctx)).await?;
        }
        let mut meta = ctx.metadata();
        guarded("before_request_metadata", || self.0.iter().try_for_each(|h| h.before_request_metadata(ctx, &mut meta)))?;
        *ctx.0.metadata.lock().unwrap() = meta;
        Ok(())
    }
    pub fn before_request_metadata(&self, ctx: &Context, m: &mut Metadata) -> Result<(), Error> {
        guarded("before_request_metadata", || self.0.iter().try_for_each(|h| h.before_request_metadata(ctx, m)))
    }
    pub fn before_request_message(&self, ctx: &Context, p: &Payload) -> Result<(), Error> {
        guarded("before_request_message", || self.0.iter().try_for_each(|h| h.before_request_message(ctx, p)))
    }
    pub fn before_request_data(&self, ctx: &Context, p: &Payload) -> Result<(), Error> {
        guarded("before_request_data", || self.0.iter().try_for_each(|h| h.before_request_data(ctx, p)))
    }
    pub fn before_leading_metadata(&self, ctx: &Context, m: &mut Metadata) {
        guarded_quiet("before_leading_metadata", || self.0.iter().for_each(|h| h.before_leading_metadata(ctx, m)))
    }
    pub fn before_response_message(&self, ctx: &Context, p: &mut Payload) -> Result<(), Error> {
        guarded("before_response_message", || self.0.iter().try_for_each(|h| h.before_response_message(ctx, p)))
    }
    pub fn before_trailing_metadata(&self, ctx: &Context, m: &mut Metadata) {
        guarded_quiet("before_trailing_metadata", || self.0.iter().for_each(|h| h.before_trailing_metadata(ctx, m)))
    }
    pub fn after_request(&self, ctx: &Context, outcome: Result<(), &Error>, elapsed: Duration) {
        guarded_quiet("after_request", || self.0.iter().for_each(|h| h.after_request(ctx, outcome, elapsed)))
    }
    pub fn after_connection(&self, conn: &ConnectionInfo) {
        guarded_quiet("after_connection", || self.0.iter().for_each(|h| h.after_connection(conn)))
    }
}
