//! The per-call context a handler can ask for: who is calling, with which metadata,
//! whether the call was cancelled, and a way back to the peer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper::http::HeaderMap;
use tokio_util::sync::CancellationToken;

use crate::connection::Peer;
use crate::protocol::{CallId, Encoding, Metadata};
use crate::state::StateMap;

/// What is known about a connection: set when it is accepted, shared by its calls.
#[derive(Debug)]
pub struct ConnectionInfo {
    /// A process-unique connection number.
    pub id: u64,
    /// The peer's address: from `Forwarded` / `X-Forwarded-For` when the server trusts
    /// proxies, otherwise the socket's.
    pub remote_addr: Option<SocketAddr>,
    /// The headers of the WebSocket upgrade request (empty on the client side).
    pub headers: HeaderMap,
    /// The connection's encoding.
    pub encoding: Encoding,
    /// Values hooks attach to the connection (an authenticated user, say).
    pub extensions: Mutex<hyper::http::Extensions>,
}

impl ConnectionInfo {
    /// The value of a cookie sent with the upgrade request.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(hyper::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
            line.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_owned())
            })
        })
    }

    /// A header of the upgrade request, as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) struct CallShared {
    pub id: CallId,
    pub method: String,
    /// The method's name as a metrics label.
    pub metric_label: metrics::SharedString,
    pub conn: Arc<ConnectionInfo>,
    pub peer: Peer,
    pub state: Arc<StateMap>,
    pub metadata: Mutex<Metadata>,
    /// Bytes of client metadata counted against the connection's held budget.
    pub metadata_held: std::sync::atomic::AtomicUsize,
    pub leading: Mutex<Metadata>,
    pub trailers: Mutex<Metadata>,
    pub cancel: CancellationToken,
    pub stop: CancellationToken,
    pub deadline: Option<Instant>,
    /// Warnings this handler has sent (counting the `DEPRECATED` one); past
    /// [`MAX_WARNINGS`](crate::streaming::MAX_WARNINGS) more are logged, not sent.
    pub warnings_sent: std::sync::atomic::AtomicUsize,
}

/// The context of one call. Cheap to clone; ask for it by adding a `ctx: Context`
/// parameter to an `#[rpc]` function.
#[derive(Clone)]
pub struct Context(pub(crate) Arc<CallShared>);

impl Context {
    /// The call's id on its connection.
    pub fn call_id(&self) -> CallId {
        self.0.id
    }

    /// The full name of the method being called.
    pub fn method(&self) -> &str {
        &self.0.method
    }

    /// The connection the call arrived on.
    pub fn connection(&self) -> &ConnectionInfo {
        &self.0.conn
    }

    /// A value of type `T` attached to the connection: by a hook, an authentication
    /// ([`auth::User`](crate::auth::User), a bearer check's value), or a middleware of
    /// the HTTP stack in front of the upgrade. A copy, so no lock is held.
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.conn.extensions.lock().unwrap().get::<T>().cloned()
    }

    /// The connection's id.
    pub fn connection_id(&self) -> u64 {
        self.0.conn.id
    }

    /// The caller's address.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.0.conn.remote_addr
    }

    /// The upgrade request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.conn.headers
    }

    /// A cookie from the upgrade request.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.0.conn.cookie(name)
    }

    /// The encoding of the connection.
    pub fn encoding(&self) -> Encoding {
        self.0.conn.encoding
    }

    /// The client metadata received so far (with the call, and in `META` frames since).
    pub fn metadata(&self) -> Metadata {
        self.0.metadata.lock().unwrap().clone()
    }

    /// One client metadata value.
    pub fn metadata_value(&self, key: &str) -> Option<String> {
        self.0.metadata.lock().unwrap().get(key).cloned()
    }

    /// Sets leading metadata, sent before the call's first item or result. Has no
    /// effect once that has been sent.
    pub fn set_leading(&self, key: impl Into<String>, value: impl Into<String>) {
        self.0.leading.lock().unwrap().insert(key.into(), value.into());
    }

    /// Sets trailing metadata, sent with the call's final frame.
    pub fn set_trailer(&self, key: impl Into<String>, value: impl Into<String>) {
        self.0.trailers.lock().unwrap().insert(key.into(), value.into());
    }

    /// True once the caller cancelled the call (or the connection closed).
    pub fn is_cancelled(&self) -> bool {
        self.0.cancel.is_cancelled()
    }

    /// Completes when the call is cancelled. Handlers doing work outside their own future
    /// (spawned tasks, blocking threads) can watch it to stop promptly.
    pub async fn cancelled(&self) {
        self.0.cancel.cancelled().await
    }

    /// True once the caller asked the stream to wind down gracefully (`STOP`).
    pub fn is_stopping(&self) -> bool {
        self.0.stop.is_cancelled()
    }

    /// Completes when the caller asks the stream to wind down (`STOP`). A producer
    /// finishes its current item and ends its stream.
    pub async fn stopping(&self) {
        self.0.stop.cancelled().await
    }

    /// The call's deadline, when the caller set a timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline
    }

    /// Sends the caller a warning: a `WARNING` frame on this call with the error's code,
    /// message and data, which ends nothing (PROTOCOL.md section 3). Use it for what the
    /// caller should know but that does not fail the call: a fallback taken, a result
    /// truncated, a limit nearly reached. The SDKs surface it on the call's response.
    ///
    /// Returns `false`, sending nothing, once the call has finished (a task the handler
    /// spawned may outlive it) or after 16 warnings on one call, the most a caller keeps;
    /// those are logged instead.
    ///
    /// ```
    /// use volley::{rpc, Context, Error, ErrorCode};
    ///
    /// /// Looks a word up; falls back to the nearest spelling.
    /// #[rpc]
    /// async fn define(ctx: Context, word: String) -> String {
    ///     if word == "teh" {
    ///         let hint = Error::new(ErrorCode::INVALID_PARAMS, "no entry for `teh`: showing `the`")
    ///             .with_data(serde_json::json!({ "used": "the" }));
    ///         ctx.warn(&hint);
    ///     }
    ///     format!("the definition of {word}")
    /// }
    /// ```
    pub fn warn(&self, warning: &crate::Error) -> bool {
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        let sent = self.0.warnings_sent.fetch_add(1, relaxed);
        if sent >= crate::streaming::MAX_WARNINGS {
            self.0.warnings_sent.fetch_sub(1, relaxed);
            tracing::warn!(method = %self.0.method, id = self.0.id, code = %warning.code, max = crate::streaming::MAX_WARNINGS, "warning not sent (the call has had its most): {}", warning.message);
            return false;
        }
        let conn = &self.0.peer.0;
        let frame = crate::protocol::Frame::Warning { id: self.0.id, warning: conn.error_body(warning) };
        let sent = conn.warn_call(&self.0, frame);
        if !sent {
            self.0.warnings_sent.fetch_sub(1, relaxed);
        }
        sent
    }

    /// The server's publisher, to notify topics and set shared states from a handler.
    /// `None` on the client side of a connection.
    pub fn publisher(&self) -> Option<crate::Publisher> {
        self.0.peer.0.routes.server.get()?.upgrade().map(crate::Publisher)
    }

    /// The peer that made the call, to call it back or notify it.
    pub fn peer(&self) -> &Peer {
        &self.0.peer
    }

    pub(crate) fn state_map(&self) -> &StateMap {
        &self.0.state
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("call_id", &self.0.id)
            .field("method", &self.0.method)
            .field("connection", &self.0.conn.id)
            .finish()
    }
}
