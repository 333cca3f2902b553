//! Lifecycle hooks: observe, alter metadata, or refuse, at each step of a connection and
//! of a call, in the order Swill defines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
#[allow(unused_variables)]
pub trait Hook: Send + Sync + 'static {
    /// Before the WebSocket upgrade is accepted. An error refuses it with an HTTP status
    /// matching the error code (401 for `UNAUTHENTICATED`, 403 for `PERMISSION_DENIED`).
    fn before_connection(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Result<(), Error> {
        Ok(())
    }
    /// The connection is open. An error closes it.
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        Ok(())
    }
    /// A call is about to run. An error fails it without running the handler.
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        Ok(())
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

/// A shared hook is a hook: register an `Arc<H>` and keep a clone to read what it
/// gathered (statistics, say).
impl<H: Hook + ?Sized> Hook for Arc<H> {
    fn before_connection(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Result<(), Error> {
        (**self).before_connection(headers, remote)
    }
    fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        (**self).after_accept(conn)
    }
    fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        (**self).before_request(ctx)
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

/// [`guarded`] for steps that cannot refuse: a panic is logged and the step skipped.
fn guarded_quiet(step: &'static str, f: impl FnOnce()) {
    let _ = guarded(step, || {
        f();
        Ok(())
    });
}

impl Hooks {
    pub fn before_connection(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Result<(), Error> {
        guarded("before_connection", || self.0.iter().try_for_each(|h| h.before_connection(headers, remote)))
    }
    pub fn after_accept(&self, conn: &ConnectionInfo) -> Result<(), Error> {
        guarded("after_accept", || self.0.iter().try_for_each(|h| h.after_accept(conn)))
    }
    pub fn before_request(&self, ctx: &Context) -> Result<(), Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut meta = ctx.metadata();
        guarded("before_request", || self.0.iter().try_for_each(|h| h.before_request(ctx)))?;
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
