//! Notifications a client sends to the server: the typed handlers a router declares for
//! them, and the bounded, ordered queue that runs those handlers on each connection
//! (PROTOCOL.md section 10).
//!
//! A connection's notifications are handled one at a time, in the order they arrived,
//! by one task per connection started with the first of them. What waits for that task
//! is bounded twice: by [`Limits::notify_queue`](crate::Limits::notify_queue)
//! notifications and by the connection's held-bytes budget. A notification past either
//! is dropped and answered with an `UNAVAILABLE` warning; one for a topic the server
//! does not handle, or whose payload does not decode, with `METHOD_NOT_FOUND` or
//! `INVALID_PARAMS`. None of them ends anything.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::sync::mpsc;

use crate::connection::budget::Held;
use crate::connection::{ConnShared, Peer};
use crate::context::{CallShared, Context};
use crate::protocol::{ErrorCode, Frame, Metadata, Payload};
use crate::error::bounded;
use crate::Error;

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// A handler for one topic: decodes the payload and runs the user's function.
pub(crate) type NotifyHandler = Arc<dyn Fn(Context, Payload) -> BoxFuture + Send + Sync>;

/// Wraps `f` as the handler of notifications of type `T`.
pub(crate) fn handler<T, F, Fut>(f: F) -> NotifyHandler
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(Context, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |ctx: Context, payload: Payload| {
        let f = f.clone();
        Box::pin(async move {
            let value: T = ctx.encoding().decode_value(payload.as_bytes()).map_err(|e| {
                Error::invalid_params(vec![crate::validate::FieldError { path: e.path, message: e.message }])
            })?;
            f(ctx, value).await
        })
    })
}

/// One notification waiting for the connection's handler task.
pub(crate) struct Inbound {
    topic: String,
    handler: NotifyHandler,
    payload: Payload,
}

/// The sending side of a connection's notification queue, made with its first one.
pub(crate) type InboundQueue = Mutex<Option<mpsc::Sender<Inbound>>>;

/// A `NOTIFY` from the peer, on a server: queued for its topic's handler, or answered
/// with a warning saying why it will not be handled.
pub(crate) fn receive(conn: &Arc<ConnShared>, topic: String, payload: Payload) {
    let Some(handler) = conn.routes.notify_handlers.get(&topic).cloned() else {
        let mut handled: Vec<&str> = conn.routes.notify_handlers.keys().map(String::as_str).collect();
        handled.sort_unstable();
        handled.truncate(crate::router::AVAILABLE_LIMIT);
        let shown = bounded(&topic);
        let error = Error::new(ErrorCode::METHOD_NOT_FOUND, format!("no handler for notifications on topic `{shown}`"))
            .with_data(serde_json::json!({ "topic": shown, "available": handled }));
        return warn(conn, &error);
    };
    let bytes = payload.as_bytes().len();
    if !conn.held.try_take(bytes) {
        return warn(conn, &dropped(&topic, &crate::connection::over_held_budget(&conn.limits, "this notification").message));
    }
    let queue = {
        let mut slot = conn.inbound.lock().unwrap();
        slot.get_or_insert_with(|| start(conn)).clone()
    };
    if let Err(e) = queue.try_send(Inbound { topic, handler, payload }) {
        let Inbound { topic, .. } = e.into_inner();
        conn.held.release(bytes);
        let limit = conn.limits.notify_queue;
        warn(conn, &dropped(&topic, &format!("{limit} notifications are already waiting for their handlers")));
    }
}

/// `UNAVAILABLE` for a notification dropped unhandled.
fn dropped(topic: &str, why: &str) -> Error {
    let topic = bounded(topic);
    Error::new(ErrorCode::UNAVAILABLE, format!("a notification on `{topic}` was dropped: {why}"))
        .with_data(serde_json::json!({ "topic": topic, "retry_after_ms": crate::connection::RETRY_AFTER_MS }))
}

/// Tells the peer about one of its notifications: a `WARNING` on id 0.
fn warn(conn: &ConnShared, error: &Error) {
    tracing::debug!(conn = conn.info.id, code = %error.code, "notification not handled: {}", error.message);
    conn.refuse(Frame::Warning { id: 0, warning: conn.error_body(error) });
}

/// Starts the connection's handler task and returns its queue.
fn start(conn: &Arc<ConnShared>) -> mpsc::Sender<Inbound> {
    let (tx, mut rx) = mpsc::channel::<Inbound>(conn.limits.notify_queue.max(1));
    let conn = conn.clone();
    tokio::spawn(async move {
        let closed = conn.closed.clone();
        loop {
            let next = tokio::select! {
                biased;
                _ = closed.cancelled() => break,
                n = rx.recv() => n,
            };
            let Some(Inbound { topic, handler, payload }) = next else { break };
            let held = Held(&conn.held, payload.as_bytes().len());
            let ctx = context(&conn, &topic);
            let hooks = &conn.routes.hooks;
            let run = async {
                if !hooks.is_empty() {
                    hooks.before_request(&ctx).await?;
                    hooks.before_request_message(&ctx, &payload)?;
                }
                match AssertUnwindSafe(handler(ctx.clone(), payload)).catch_unwind().await {
                    Ok(result) => result,
                    Err(panic) => {
                        let what = crate::error::panic_message(&*panic);
                        tracing::error!(topic = %topic, "notification handler panicked: {what}");
                        Err(Error::internal(format!("the handler of `{topic}` failed")))
                    }
                }
            };
            let outcome = tokio::select! {
                biased;
                _ = closed.cancelled() => break,
                r = run => r,
            };
            // The payload's bytes are held until its handler is done with it.
            drop(held);
            if let Err(e) = outcome {
                let message = format!("the notification on `{topic}` failed: {}", e.message);
                warn(&conn, &Error { message, ..e });
            }
        }
        // Whatever still waits is dropped with the connection; its bytes go back.
        rx.close();
        while let Ok(Inbound { payload, .. }) = rx.try_recv() {
            conn.held.release(payload.as_bytes().len());
        }
    });
    tx
}

/// The context a notification handler gets: the connection's, with call id 0 and the
/// topic as its method.
fn context(conn: &Arc<ConnShared>, topic: &str) -> Context {
    Context(Arc::new(CallShared {
        id: 0,
        method: topic.to_owned(),
        metric_label: metrics::SharedString::const_str("notification"),
        conn: conn.info.clone(),
        peer: Peer(conn.clone()),
        state: conn.routes.state.clone(),
        metadata: Mutex::new(Metadata::new()),
        metadata_held: Default::default(),
        leading: Mutex::new(Metadata::new()),
        trailers: Mutex::new(Metadata::new()),
        cancel: conn.closed.child_token(),
        stop: Default::default(),
        deadline: None,
        warnings_sent: Default::default(),
    }))
}
