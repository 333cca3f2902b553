//! Serving calls the peer makes: routing, the handler task, deadlines, cancellation,
//! panics, and driving a handler's stream under the caller's credit.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::budget::Held;
use super::{ConnShared, Out, Peer, Slot};
use crate::context::{CallShared, Context};
use crate::method::{ItemStream, MethodDef, Outcome};
use crate::protocol::{CallId, ErrorCode, Frame, FrameKind, Metadata, Payload, DEFAULT_WINDOW};
use crate::router::Hooks;
use crate::streaming::Inbox;
use crate::Error;

/// A new call has passed the table's checks: route it and start its handler.
pub(super) fn accept(conn: &Arc<ConnShared>, frame: Frame) {
    let Frame::Call { id, method, params, options } = frame else { return };
    let unknown = metrics::SharedString::const_str("unknown");
    let reject = |label: &metrics::SharedString, error: Error| {
        crate::metrics::call_finished(label, Some(error.code), Duration::ZERO);
        conn.table.lock().unwrap().close(id);
        let _ = conn.out.send(Out::Final(conn.error_frame(id, &error, Metadata::new()), None));
    };
    let Some(def) = conn.routes.get(&method) else {
        let error = if conn.routes.is_empty() {
            Error::new(ErrorCode::UNIMPLEMENTED, "this peer does not serve calls")
        } else {
            conn.routes.not_found(&method)
        };
        return reject(&unknown, error);
    };
    let label = &def.metric_label;
    if let Err(e) = check_client_metadata(&options.metadata, conn.limits.max_metadata_bytes, id, FrameKind::Call) {
        return reject(label, e);
    }
    if conn.routes.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return reject(label, Error::new(ErrorCode::UNAVAILABLE, "the server is shutting down; retry on another connection"));
    }
    let Ok(permit) = conn.pending.clone().try_acquire_owned() else {
        return reject(label, Error::new(ErrorCode::UNAVAILABLE, "too many calls in flight on this connection; retry later")
            .with_data(serde_json::json!({ "retry_after_ms": super::RETRY_AFTER_MS })));
    };
    // The parameters are held until the handler has decoded them, the client metadata
    // until the call ends.
    let held = params.0.len();
    if !conn.held.try_take(held + metadata_bytes(&options.metadata)) {
        return reject(label, super::over_held_budget(&conn.limits, "the parameters of this call"));
    }
    let shape = def.shape;
    let cancel = conn.closed.child_token();
    let stop = CancellationToken::new();
    // The caller's window, up to what this end honours.
    let window = options.window.unwrap_or(DEFAULT_WINDOW).min(conn.limits.max_window);
    let credit = shape.callee_streams().then(|| Arc::new(Semaphore::new(window as usize)));
    let (inbox_tx, inbox) = if shape.caller_streams() {
        let (tx, rx) = mpsc::unbounded_channel();
        let control: Arc<dyn crate::streaming::StreamControl> = conn.clone();
        (Some(tx), Some(Inbox { rx, id, window: conn.limits.window, control }))
    } else {
        (None, None)
    };
    let call = Arc::new(CallShared {
        id,
        method: def.name.clone(),
        metric_label: def.metric_label.clone(),
        conn: conn.info.clone(),
        peer: Peer(conn.clone()),
        state: conn.routes.state.clone(),
        metadata_held: std::sync::atomic::AtomicUsize::new(metadata_bytes(&options.metadata)),
        metadata: Mutex::new(options.metadata),
        leading: Mutex::new(Metadata::new()),
        trailers: Mutex::new(Metadata::new()),
        cancel: cancel.clone(),
        stop: stop.clone(),
        deadline: options.timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
        warnings_sent: std::sync::atomic::AtomicUsize::new(usize::from(def.deprecated.is_some())),
    });
    let slot = Slot { inbox: inbox_tx, cancel, stop, credit: credit.clone(), call: Some(call.clone()), warnings: None };
    {
        let mut table = conn.table.lock().unwrap();
        table.route(id, shape, slot);
        if shape.caller_streams() {
            table.granted(id, conn.limits.window);
            let _ = conn.out.send(Out::Frame(Frame::Credit { id, n: conn.limits.window }));
        }
    }
    if let Some(note) = def.deprecated {
        let message = if note.is_empty() { format!("`{method}` is deprecated") } else { format!("`{method}` is deprecated: {note}") };
        let warning = crate::protocol::ErrorBody { code: ErrorCode::DEPRECATED, message, data: None };
        let _ = conn.out.send(Out::Frame(Frame::Warning { id, warning }));
    }
    let ctx = Context(call);
    // A sequential method's call waits for the one accepted before it in its group;
    // taken here, in the reader, so the order is the order of arrival.
    let turn = def.sequence.as_ref().map(|group| {
        let (done, mine) = tokio::sync::oneshot::channel();
        let before = conn.sequences.lock().unwrap().insert(group.clone(), mine);
        Turn { before, done: Some(done) }
    });
    let conn = conn.clone();
    crate::metrics::call_started(label);
    // A child of the connection's span (this runs in its reader).
    let span = tracing::info_span!("call", method = %def.name, id, shape = shape.as_str());
    tokio::spawn(tracing::Instrument::instrument(run(conn, def.clone(), ctx, params, held, inbox, credit, permit, turn), span));
}

/// A sequential call's place in its group: the end of the call before it, and its own
/// end to tell the next (sent when the call is over, however it ended).
struct Turn {
    before: Option<tokio::sync::oneshot::Receiver<()>>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Turn {
    /// Waits until the call before has finished (or was dropped).
    /// Not taken until it has finished: a call that gives up while waiting passes the
    /// wait on to the next (see `drop`).
    async fn wait(&mut self) {
        if let Some(before) = self.before.as_mut() {
            let _ = before.await;
            self.before = None;
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some(done) = self.done.take() else { return };
        match self.before.take() {
            // Ended (cancelled, say) before its turn came: the next call still waits for
            // the one before this one.
            Some(before) => {
                tokio::spawn(async move {
                    let _ = before.await;
                    let _ = done.send(());
                });
            }
            None => {
                let _ = done.send(());
            }
        }
    }
}

/// Client metadata a caller may send (PROTOCOL.md section 6): at most
/// `MAX_METADATA_ENTRIES` entries, and no key in the reserved `volley-` space.
/// `frame` is the frame that brought it (`CALL` or `META`), named in the error's data.
fn check_client_metadata(metadata: &Metadata, max_bytes: usize, id: CallId, frame: FrameKind) -> Result<(), Error> {
    let violation = |message: String| {
        Err(Error::new(ErrorCode::PROTOCOL_VIOLATION, message).with_data(serde_json::json!({ "id": id, "frame": frame.name() })))
    };
    if metadata.len() > super::MAX_METADATA_ENTRIES {
        return violation(format!("more than {} client metadata entries on one call", super::MAX_METADATA_ENTRIES));
    }
    if metadata_bytes(metadata) > max_bytes {
        return violation(format!("more than {max_bytes} bytes of client metadata on one call"));
    }
    if let Some(key) = metadata.keys().find(|k| k.starts_with("volley-")) {
        return violation(format!("client metadata key `{}` is in the reserved `volley-` space", crate::error::bounded(key)));
    }
    Ok(())
}

/// Client metadata arriving during a call: merged into the handler's view.
pub(super) fn more_metadata(conn: &ConnShared, call: &Arc<CallShared>, mut metadata: Metadata) {
    if let Err(e) = conn.routes.hooks.before_request_metadata(&Context(call.clone()), &mut metadata) {
        super::reader::finish_call(conn, crate::protocol::Finish::AsCallee(call.id), &e);
        return;
    }
    let mut merged = call.metadata.lock().unwrap();
    // What the merge adds to the bytes held for the call: charged before it is made.
    let (mut added, mut freed) = (0usize, 0usize);
    for (k, v) in &metadata {
        match merged.get(k) {
            Some(old) if old.len() >= v.len() => freed += old.len() - v.len(),
            Some(old) => added += v.len() - old.len(),
            None => added += k.len() + v.len(),
        }
    }
    if !conn.held.try_take(added) {
        drop(merged);
        let e = super::over_held_budget(&conn.limits, "client metadata");
        super::reader::finish_call(conn, crate::protocol::Finish::AsCallee(call.id), &e);
        return;
    }
    conn.held.release(freed);
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    let _ = call.metadata_held.fetch_update(relaxed, relaxed, |held| Some((held + added).saturating_sub(freed)));
    merged.extend(metadata);
    if let Err(e) = check_client_metadata(&merged, conn.limits.max_metadata_bytes, call.id, FrameKind::Meta) {
        drop(merged);
        super::reader::finish_call(conn, crate::protocol::Finish::AsCallee(call.id), &e);
    } else {
        drop(merged);
    }
    // The call may have finished meanwhile, its metadata released before this merge.
    if conn.table.lock().unwrap().get(call.id).is_none() {
        release_metadata(conn, &Context(call.clone()));
    }
}

/// Bytes of metadata keys and values.
fn metadata_bytes(metadata: &Metadata) -> usize {
    metadata.iter().map(|(k, v)| k.len() + v.len()).sum()
}

async fn run(
    conn: Arc<ConnShared>,
    def: Arc<MethodDef>,
    ctx: Context,
    params: Payload,
    held: usize,
    inbox: Option<Inbox>,
    credit: Option<Arc<Semaphore>>,
    permit: OwnedSemaphorePermit,
    mut turn: Option<Turn>,
) {
    let id = ctx.call_id();
    let held = Held(&conn.held, held);
    let hooks = &conn.routes.hooks;
    let cancel = ctx.0.cancel.clone();
    let deadline = ctx.deadline();
    let started = Instant::now();
    let sleep = async move {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep);

    let result = async {
        if let Some(turn) = turn.as_mut() {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Step::Cancelled,
                _ = &mut sleep => return Step::Deadline,
                _ = turn.wait() => {}
            }
        }
        let _running = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Step::Cancelled,
            _ = &mut sleep => return Step::Deadline,
            p = conn.running.acquire() => p,
        };
        // A deadline that passed before the handler could start (`ext.t = 0`, or a wait
        // for a slot) is not raced against the handler: a timer due now may not fire
        // on its first poll.
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Step::Deadline;
        }
        if !hooks.is_empty() {
            let checked = async { hooks.before_request(&ctx).await.and_then(|_| hooks.before_request_message(&ctx, &params)) };
            let verdict = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Step::Cancelled,
                _ = &mut sleep => return Step::Deadline,
                v = checked => v,
            };
            if let Err(e) = verdict {
                return Step::Done(Outcome::Error(e));
            }
        }
        let fut = AssertUnwindSafe((def.handler)(ctx.clone(), params, inbox)).catch_unwind();
        // The handler has decoded its parameters: their bytes are no longer held.
        drop(held);
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Step::Cancelled,
            _ = &mut sleep => return Step::Deadline,
            r = fut => r,
        };
        match outcome {
            Ok(Outcome::Stream(s)) => drive(&conn, &ctx, &def.metric_label, s, credit, &cancel, &mut sleep).await,
            Ok(o) => Step::Done(o),
            Err(panic) => Step::Done(Outcome::Error(panicked(&ctx, panic))),
        }
    }
    .await;

    // Trailers are settled (`before_trailing_metadata`) before `after_request` observes
    // the outcome, so hooks run in the documented order.
    let (frame, outcome) = match result {
        Step::Cancelled => {
            finished(&def, Some(ErrorCode::CANCELLED), started.elapsed());
            hooks.after_request(&ctx, Err(&Error::cancelled()), started.elapsed());
            release_metadata(&conn, &ctx);
            return;
        }
        Step::Deadline => {
            let e = Error::new(ErrorCode::DEADLINE_EXCEEDED, "the call's deadline passed before it finished");
            ctx.0.cancel.cancel();
            (conn.error_frame(id, &e, take_trailers(&ctx, hooks)), Err(e))
        }
        Step::Done(Outcome::Value(mut value)) => {
            send_leading(&conn, &ctx);
            match hooks.before_response_message(&ctx, &mut value) {
                Err(e) => (conn.error_frame(id, &e, take_trailers(&ctx, hooks)), Err(e)),
                Ok(()) => (Frame::Result { id, value, trailers: take_trailers(&ctx, hooks) }, Ok(())),
            }
        }
        Step::Done(Outcome::Error(e)) => (conn.error_frame(id, &e, take_trailers(&ctx, hooks)), Err(e)),
        Step::Done(Outcome::Stream(_)) => unreachable!("streams are driven to the end"),
        Step::Ended => (Frame::End { id, trailers: take_trailers(&ctx, hooks) }, Ok(())),
    };
    finished(&def, outcome.as_ref().err().map(|e| e.code), started.elapsed());
    hooks.after_request(&ctx, outcome.as_ref().map(|_| ()), started.elapsed());
    conn.finish(id, frame, Some(permit));
    release_metadata(&conn, &ctx);
}

/// Counts and logs the end of a call (`code` `None`: success).
fn finished(def: &MethodDef, code: Option<ErrorCode>, elapsed: Duration) {
    crate::metrics::call_finished(&def.metric_label, code, elapsed);
    let code = code.map_or("OK", |c| c.name().unwrap_or("APPLICATION"));
    tracing::debug!(code, elapsed_us = elapsed.as_micros() as u64, "call finished");
}

/// The call is over: its client metadata is no longer held.
fn release_metadata(conn: &ConnShared, ctx: &Context) {
    conn.held.release(ctx.0.metadata_held.swap(0, std::sync::atomic::Ordering::Relaxed));
}


enum Step {
    Cancelled,
    Deadline,
    Done(Outcome),
    Ended,
}

fn panicked(ctx: &Context, panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = crate::error::panic_message(&*panic);
    let at = crate::error::panic_location();
    let at_shown = at.as_deref().map(|a| format!(" at {a}")).unwrap_or_default();
    tracing::error!(method = ctx.method(), call = ctx.call_id(), "handler panicked{at_shown}: {what}");
    if ctx.0.peer.0.routes.panic_details.load(std::sync::atomic::Ordering::Relaxed) {
        Error::internal(format!("the handler panicked{at_shown}: {what}"))
            .with_data(serde_json::json!({ "panic": what, "location": at }))
    } else {
        Error::internal("the handler failed unexpectedly")
    }
}

fn take_trailers(ctx: &Context, hooks: &Hooks) -> Metadata {
    let mut t = std::mem::take(&mut *ctx.0.trailers.lock().unwrap());
    hooks.before_trailing_metadata(ctx, &mut t);
    t
}

/// Sends leading metadata once, before the first item or result, if any was set.
pub(crate) fn send_leading(conn: &ConnShared, ctx: &Context) {
    let mut leading = std::mem::take(&mut *ctx.0.leading.lock().unwrap());
    conn.routes.hooks.before_leading_metadata(ctx, &mut leading);
    if !leading.is_empty() {
        conn.send_for_call(ctx.call_id(), Frame::Meta { id: ctx.call_id(), metadata: leading });
    }
}

/// Sends a handler's stream, one credit per item.
///
/// The next item is produced before its credit is taken, so a stream that ends while
/// the caller's credit is 0 still sends its `END` (which needs no credit); the server
/// holds at most that one produced item while it waits. After a `STOP` the handler is
/// polled once more, so it can see [`Context::is_stopping`] and end with its trailers;
/// an item it produces then anyway, or one still waiting for credit, is dropped.
async fn drive<F: std::future::Future<Output = ()> + Unpin>(
    conn: &ConnShared,
    ctx: &Context,
    label: &metrics::SharedString,
    mut items: ItemStream,
    credit: Option<Arc<Semaphore>>,
    cancel: &CancellationToken,
    sleep: &mut F,
) -> Step {
    let Some(credit) = credit else { return Step::Done(Outcome::Error(Error::internal("stream without credit"))) };
    let id: CallId = ctx.call_id();
    let stop = ctx.0.stop.clone();
    let mut first = true;
    loop {
        let stopped = stop.is_cancelled();
        let next = AssertUnwindSafe(items.next()).catch_unwind();
        let item = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Step::Cancelled,
            _ = &mut *sleep => return Step::Deadline,
            item = next => item,
        };
        let mut value = match item {
            Ok(Some(Ok(value))) => value,
            Ok(Some(Err(e))) => return Step::Done(Outcome::Error(e)),
            Ok(None) => return Step::Ended,
            Err(panic) => return Step::Done(Outcome::Error(panicked(ctx, panic))),
        };
        if stopped {
            return Step::Ended;
        }
        match credit.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(_) => {
                crate::metrics::credit_stall(label);
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Step::Cancelled,
                    _ = &mut *sleep => return Step::Deadline,
                    _ = stop.cancelled() => continue,
                    p = credit.acquire() => {
                        if let Ok(p) = p {
                            p.forget();
                        }
                    }
                }
            }
        }
        // A producer waits while the connection's outgoing queue is over its budget, as
        // it waits for credit.
        if conn.out.bytes.is_over() {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Step::Cancelled,
                _ = &mut *sleep => return Step::Deadline,
                _ = conn.out.bytes.room() => {}
            }
        }
        if first {
            send_leading(conn, ctx);
            first = false;
        }
        if let Err(e) = conn.routes.hooks.before_response_message(ctx, &mut value) {
            return Step::Done(Outcome::Error(e));
        }
        if !conn.send_for_call(id, Frame::Item { id, value }) {
            return Step::Cancelled;
        }
        crate::metrics::item_sent(label);
    }
}
