//! The reader: decodes each incoming message, judges it with the call table, and hands
//! it to the call it belongs to. Bad input is answered here and never ends the loop.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

use std::time::{Duration, Instant};

use super::{close_code, incoming, ConnShared, Out};
use crate::protocol::{CallId, Encoding, ErrorBody, Finish, ErrorCode, Frame, FrameKind, Metadata, Verdict, Violation};
use crate::streaming::InEvent;
use crate::Error;

pub(super) async fn run<R>(mut stream: R, conn: Arc<ConnShared>)
where
    R: Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    let encoding = conn.info.encoding;
    // One wait on the close for the whole loop: a fresh one per message would register
    // and unregister a waiter on the token for every frame.
    let closed = conn.closed.cancelled();
    tokio::pin!(closed);
    let limits = &conn.limits;
    // One timer serves heartbeats and the idle timeout.
    // Only a server closes idle connections; a client keeps the one it opened.
    let idle_timeout = limits.idle_timeout.filter(|_| conn.role == crate::protocol::Role::Server);
    let period = limits.heartbeat_interval.or(idle_timeout.map(|d| d / 4)).unwrap_or(Duration::from_secs(3600));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // When the peer was last heard from at all, and when it last sent a frame.
    let mut heard = Instant::now();
    let mut active = Instant::now();
    loop {
        // While more than the outgoing budget waits to be written, the peer is not
        // reading: stop reading from it too, so it cannot make this end answer without
        // bound. (A peer that never reads again misses its heartbeats and is closed.)
        let backlogged = conn.out.bytes.is_over();
        let msg = tokio::select! {
            biased;
            _ = &mut closed => break,
            _ = tick.tick() => {
                if let Some(interval) = limits.heartbeat_interval {
                    if heard.elapsed() > interval + limits.heartbeat_timeout {
                        tracing::debug!(conn = conn.info.id, "no heartbeat from the peer: closing");
                        crate::metrics::heartbeat_missed();
                        conn.close_with(close_code::HEARTBEAT, "heartbeat timeout");
                        return;
                    }
                    let _ = conn.out.send(Out::Ping);
                }
                if let Some(idle) = idle_timeout {
                    if active.elapsed() > idle && conn.is_idle() {
                        tracing::debug!(conn = conn.info.id, "idle: closing");
                        conn.close_with(close_code::IDLE, "idle timeout");
                        return;
                    }
                }
                continue;
            }
            _ = conn.out.bytes.room(), if backlogged => continue,
            msg = stream.next(), if !backlogged => msg,
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(tungstenite::Error::Capacity(e))) => {
                tracing::debug!(conn = conn.info.id, "message above the WebSocket limit: {e}");
                conn.close_with(close_code::TOO_BIG, "message too big");
                return;
            }
            Some(Err(e)) => {
                tracing::debug!(conn = conn.info.id, "connection error: {e}");
                conn.close(&format!("the connection failed: {e}"));
                return;
            }
            None => break,
        };
        heard = Instant::now();
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            active = heard;
        }
        match msg {
            Message::Text(t) if encoding == Encoding::Json => on_bytes(&conn, Bytes::from(t)),
            Message::Binary(b) if encoding == Encoding::MsgPack => on_bytes(&conn, b),
            Message::Text(t) => wrong_encoding(&conn, t.as_bytes(), "a text frame on volley.v1.msgpack (which uses binary frames)"),
            Message::Binary(b) => wrong_encoding(&conn, &b, "a binary frame on volley.v1.json (which uses text frames)"),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
    conn.close("the peer closed the connection");
}

/// Answers a frame that cannot be used, on the call it names when that can be read.
fn refuse(conn: &ConnShared, kind: Option<FrameKind>, id: Option<CallId>, code: ErrorCode, message: String, data: Option<serde_json::Value>) {
    let error = Error { code, message, data };
    if let Some(id) = id.filter(|id| *id != 0) {
        if kind == Some(FrameKind::Call) && !conn.role.owns(id) {
            // A broken CALL uses up its id when the id is fresh, and is answered on it so
            // the caller is not left waiting. One whose id is not fresh is a duplicate: the
            // call already open under that id (if any) goes on and answers once.
            if conn.table.lock().unwrap().claim_peer_id(id) {
                conn.refuse(conn.error_frame(id, &error, Metadata::new()));
            } else {
                let duplicate = Error::new(ErrorCode::DUPLICATE_CALL_ID, format!("call id {id} is not above the highest id used so far"))
                    .with_data(violation_data(id, FrameKind::Call));
                conn.refuse(conn.error_frame(0, &duplicate, Metadata::new()));
            }
            return;
        }
        // A broken frame on an open call: the call cannot go on without it.
        let entry = conn.table.lock().unwrap().get(id).map(|e| e.outbound);
        if let (Some(outbound), false) = (entry, kind == Some(FrameKind::Call)) {
            finish_call(conn, if outbound { Finish::AsCaller(id) } else { Finish::AsCallee(id) }, &error);
            return;
        }
    }
    conn.refuse(conn.error_frame(0, &error, Metadata::new()));
}

/// The data of `PROTOCOL_VIOLATION`, `UNKNOWN_CALL` and `DUPLICATE_CALL_ID` errors: the
/// offending frame's id and kind (PROTOCOL.md section 7).
fn violation_data(id: CallId, kind: FrameKind) -> serde_json::Value {
    serde_json::json!({ "id": id, "frame": kind.name() })
}

fn wrong_encoding(conn: &ConnShared, bytes: &[u8], what: &str) {
    let other = match conn.info.encoding {
        Encoding::Json => Encoding::MsgPack,
        Encoding::MsgPack => Encoding::Json,
    };
    let (kind, id) = other.peek_head(bytes);
    refuse(conn, kind, id, ErrorCode::WRONG_ENCODING, format!("wrong encoding: {what}"), None);
}

fn on_bytes(conn: &Arc<ConnShared>, bytes: Bytes) {
    crate::metrics::bytes_received(bytes.len());
    let encoding = conn.info.encoding;
    if bytes.len() > conn.limits.max_frame_size {
        let (kind, id) = encoding.peek_head(&bytes);
        let limit = conn.limits.max_frame_size;
        refuse(
            conn,
            kind,
            id,
            ErrorCode::FRAME_TOO_LARGE,
            format!("frame of {} bytes is above the limit of {limit} bytes", bytes.len()),
            Some(serde_json::json!({ "limit": limit, "size": bytes.len() })),
        );
        return;
    }
    let frame = match encoding.decode_frame(&bytes) {
        Ok(f) => f,
        Err(e) => {
            let data = serde_json::json!({ "reason": e.reason });
            refuse(conn, e.kind, e.id, ErrorCode::BAD_FRAME, format!("bad frame: {}", e.reason), Some(data));
            return;
        }
    };
    on_frame(conn, frame);
}

fn on_frame(conn: &Arc<ConnShared>, frame: Frame) {
    let verdict = conn.table.lock().unwrap().receive(&frame, || conn.placeholder.clone());
    match verdict {
        Verdict::NewCall => incoming::accept(conn, frame),
        Verdict::Deliver => deliver(conn, frame),
        Verdict::Finished(slot) => finished(slot, frame, conn.info.encoding),
        Verdict::Stale => {}
        Verdict::Connection => crate::topics::on_connection_frame(conn, frame),
        Verdict::Violation(v) => violation(conn, v),
    }
}

fn slot(conn: &ConnShared, id: CallId) -> Option<super::Slot> {
    conn.table.lock().unwrap().get(id).map(|e| e.slot.clone())
}

fn deliver(conn: &ConnShared, frame: Frame) {
    let Some(id) = frame.call_id() else { return };
    // A running stream's items and credit are handled in place, under one look-up,
    // instead of copying the call's slot for every frame. (Items for a call we serve go
    // the long way: a hook may run on them, and it must not run under the table's lock.)
    let frame = {
        let table = conn.table.lock().unwrap();
        let Some(entry) = table.get(id) else { return };
        let slot = &entry.slot;
        match frame {
            Frame::Item { value, .. } if slot.call.is_none() => {
                if !conn.held.try_take(value.0.len()) {
                    drop(table);
                    over_budget(conn, id);
                    return;
                }
                if let Some(inbox) = &slot.inbox {
                    if let Err(unsent) = inbox.send(InEvent::Item(value)) {
                        conn.consumed_event(unsent.0);
                    }
                }
                return;
            }
            Frame::Credit { n, .. } => {
                if let Some(credit) = &slot.credit {
                    // Credit past `max_window` is not an error, only not used: it would
                    // let the peer size this end's queues.
                    let cap = conn.limits.max_window as usize;
                    credit.add_permits((n as usize).min(cap.saturating_sub(credit.available_permits())));
                }
                return;
            }
            other => other,
        }
    };
    let Some(slot) = slot(conn, id) else { return };
    match frame {
        Frame::Item { value, .. } => {
            if let Some(call) = &slot.call {
                crate::metrics::item_received(&call.metric_label);
                let ctx = crate::Context(call.clone());
                if let Err(e) = conn.routes.hooks.before_request_data(&ctx, &value) {
                    finish_call(conn, Finish::AsCallee(id), &e);
                    return;
                }
            }
            if !conn.held.try_take(value.0.len()) {
                over_budget(conn, id);
                return;
            }
            if let Some(inbox) = &slot.inbox {
                if let Err(unsent) = inbox.send(InEvent::Item(value)) {
                    conn.consumed_event(unsent.0);
                }
            }
        }
        Frame::End { trailers, .. } => {
            if let Some(inbox) = &slot.inbox {
                let _ = inbox.send(InEvent::End(trailers));
            }
        }
        Frame::Meta { metadata, .. } => match &slot.call {
            // Client metadata for a call we serve: the handler sees it in its context.
            Some(call) => incoming::more_metadata(conn, call, metadata),
            // Leading metadata for a call we made.
            None => {
                if let Some(inbox) = &slot.inbox {
                    let _ = inbox.send(InEvent::Meta(metadata));
                }
            }
        },
        Frame::Stop { .. } => {
            slot.stop.cancel();
            // A bidirectional handler's input ends with a stop too: the callee's `END`
            // that the stop asks for closes the call in both directions.
            if let (Some(_), Some(_), Some(inbox)) = (&slot.call, &slot.credit, &slot.inbox) {
                let _ = inbox.send(InEvent::End(Metadata::new()));
            }
        }
        Frame::Warning { warning, .. } => {
            tracing::debug!(conn = conn.info.id, call = id, code = %warning.code, "warning from peer: {}", warning.message);
            if let (Some(inbox), Some(seen)) = (&slot.inbox, &slot.warnings) {
                if seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < crate::streaming::MAX_WARNINGS {
                    let _ = inbox.send(InEvent::Warning(wire_error(warning, conn.info.encoding)));
                }
            }
        }
        _ => {}
    }
}

/// A stream item that would take the connection past its held-bytes budget: the call
/// fails (as its callee, `ERROR`; as its caller, `CANCEL`) instead of buffering it.
fn over_budget(conn: &ConnShared, id: CallId) {
    let outbound = conn.table.lock().unwrap().get(id).map(|e| e.outbound);
    let Some(outbound) = outbound else { return };
    let error = super::over_held_budget(&conn.limits, "stream items not yet consumed");
    finish_call(conn, if outbound { Finish::AsCaller(id) } else { Finish::AsCallee(id) }, &error);
}

/// A final frame: the call is closed; hand the outcome to whoever waits for it.
fn finished(slot: super::Slot, frame: Frame, encoding: Encoding) {
    match frame {
        Frame::Result { value, trailers, .. } => {
            if let Some(inbox) = &slot.inbox {
                let _ = inbox.send(InEvent::Result(value, trailers));
            }
        }
        Frame::Error { error, trailers, .. } => {
            if let Some(inbox) = &slot.inbox {
                let _ = inbox.send(InEvent::Error(wire_error(error, encoding), trailers));
            }
        }
        Frame::End { trailers, .. } => {
            if let Some(inbox) = &slot.inbox {
                let _ = inbox.send(InEvent::End(trailers));
            }
        }
        Frame::Cancel { .. } => slot.cancel.cancel(),
        _ => {}
    }
}

/// An `ERROR` body received from the peer, as an [`Error`].
pub(crate) fn wire_error(body: ErrorBody, encoding: Encoding) -> Error {
    let data = body.data.and_then(|d| encoding.to_json(d.as_bytes()).ok());
    Error { code: body.code, message: body.message, data }
}

fn violation(conn: &ConnShared, v: Violation) {
    let error = Error::new(v.code, v.message.clone()).with_data(violation_data(v.id, v.kind));
    match v.finish {
        Some(finish) => finish_call(conn, finish, &error),
        None => conn.refuse(conn.error_frame(0, &error, Metadata::new())),
    }
}

/// Finishes an open call because of a broken rule: as its callee with `ERROR`, as its caller
/// with `CANCEL`, and tells the local side.
pub(super) fn finish_call(conn: &ConnShared, finish: Finish, error: &Error) {
    match finish {
        Finish::AsCallee(id) => {
            let slot = conn.table.lock().unwrap().close(id);
            if let Some(slot) = slot {
                slot.cancel.cancel();
                let _ = conn.out.send(Out::Frame(conn.error_frame(id, error, Metadata::new())));
            }
        }
        Finish::AsCaller(id) => {
            let slot = conn.table.lock().unwrap().close(id);
            if let Some(slot) = slot {
                slot.cancel.cancel();
                let _ = conn.out.send(Out::Frame(Frame::Cancel { id, reason: Some((error.code, error.message.clone())) }));
                if let Some(inbox) = slot.inbox {
                    let _ = inbox.send(InEvent::Error(error.clone(), Metadata::new()));
                }
            }
        }
    }
}
