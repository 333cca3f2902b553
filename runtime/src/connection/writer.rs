//! The writer: takes everything queued in one go, encodes it, then flushes once, so a
//! burst of replies costs one write instead of one per frame.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use bytes::Bytes;
use futures_util::{Sink, SinkExt};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{ConnShared, Out};
use crate::protocol::{Encoding, Frame};

/// Frames encoded per flush at most, so one flush never holds the socket for long.
const MAX_BATCH: usize = 512;

/// The encoding buffer is dropped after a flush when a large frame has grown it past
/// this, so an idle connection does not keep it.
const KEEP_BUFFER: usize = 16 << 10;

/// A queue that has grown past this many slots gives its memory back once it is empty,
/// so a connection that once had a burst does not keep the burst's buffer while idle.
const KEEP_SLOTS: usize = 256;

/// The queue between everything that sends on a connection and its writer task.
///
/// Not bounded by itself: what is queued is counted in bytes, and whoever makes more
/// (the reader, stream producers) waits while the count is over the connection's
/// outgoing budget. It starts with no buffer at all, and the writer takes the whole
/// queue under one lock instead of one frame at a time.
pub(crate) struct OutQueue {
    state: Mutex<QueueState>,
    /// Bytes queued and not yet written (the connection's outgoing budget).
    pub(crate) bytes: super::budget::Budget,
}

/// The writer has stopped: the connection is closed.
#[derive(Debug)]
pub(crate) struct Closed;

#[derive(Default)]
struct QueueState {
    items: VecDeque<Out>,
    waker: Option<Waker>,
    closed: bool,
}

impl OutQueue {
    pub(crate) fn new(budget: usize) -> Self {
        OutQueue { state: Mutex::new(QueueState::default()), bytes: super::budget::Budget::new(budget) }
    }

    /// Queues `out` for the writer. Fails (dropping it) once the writer has stopped.
    pub(crate) fn send(&self, out: Out) -> Result<(), Closed> {
        let waker = {
            let mut s = self.state.lock().unwrap();
            if s.closed {
                return Err(Closed);
            }
            self.bytes.add(out_size(&out));
            s.items.push_back(out);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Waits until something is queued, then swaps the whole queue with `batch` (which
    /// must be empty). Returns false when the queue is closed.
    async fn take_all(&self, batch: &mut VecDeque<Out>) -> bool {
        poll_fn(|cx| {
            let mut s = self.state.lock().unwrap();
            if !s.items.is_empty() {
                std::mem::swap(&mut s.items, batch);
                return Poll::Ready(true);
            }
            if s.closed {
                return Poll::Ready(false);
            }
            match &s.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => s.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// Swaps the queue with `batch` (which must be empty) if anything is queued.
    fn try_take_all(&self, batch: &mut VecDeque<Out>) -> bool {
        let mut s = self.state.lock().unwrap();
        if s.items.is_empty() {
            return false;
        }
        std::mem::swap(&mut s.items, batch);
        true
    }

    /// Refuses everything sent from now on and drops what is still queued.
    fn close(&self) {
        let dropped = {
            let mut s = self.state.lock().unwrap();
            s.closed = true;
            s.waker = None;
            std::mem::take(&mut s.items)
        };
        self.bytes.release(dropped.iter().map(out_size).sum());
        drop(dropped);
    }
}

pub(super) async fn run<W>(mut sink: W, conn: Arc<ConnShared>)
where
    W: Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let encoding = conn.info.encoding;
    let mut permits = Vec::new();
    let mut batch: VecDeque<Out> = VecDeque::new();
    let mut buf = Vec::new();
    let mut close_frame = None;
    // Told once what was queued before them has been flushed to the socket.
    let mut written = Vec::new();
    'outer: while conn.out.take_all(&mut batch).await {
        let mut n = 0;
        let mut waited = false;
        loop {
            let Some(out) = batch.pop_front() else {
                // Calls of ours that are still running will answer in a moment: let
                // them run once before flushing, so a burst of answers shares one write
                // instead of each answer waking the writer for a write of its own.
                if !waited && answers_due(&conn, permits.len()) {
                    waited = true;
                    tokio::task::yield_now().await;
                    if conn.out.try_take_all(&mut batch) {
                        continue;
                    }
                }
                break;
            };
            conn.out.bytes.release(out_size(&out));
            let frame = match out {
                Out::Close(frame) => {
                    close_frame = frame;
                    break 'outer;
                }
                Out::Ping => {
                    if sink.feed(Message::Ping(Bytes::new())).await.is_err() {
                        break 'outer;
                    }
                    continue;
                }
                Out::Written(tell) => {
                    written.push(tell);
                    continue;
                }
                Out::Frame(f) => f,
                Out::Final(f, permit) => {
                    permits.extend(permit);
                    f
                }
                Out::Refusal(f) => f,
                Out::Notification(f) => {
                    conn.queued_notifications.fetch_sub(1, Ordering::Relaxed);
                    f
                }
            };
            if sink.feed(message(encoding, &frame, &mut buf)).await.is_err() {
                break 'outer;
            }
            n += 1;
            if n == MAX_BATCH && !batch.is_empty() {
                n = 0;
                if sink.flush().await.is_err() {
                    break 'outer;
                }
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
        for tell in written.drain(..) {
            let _ = tell.send(());
        }
        crate::topics::after_flush(&conn);
        permits.clear();
        if batch.capacity() > KEEP_SLOTS {
            batch = VecDeque::new();
        }
        if buf.capacity() > KEEP_BUFFER {
            buf = Vec::new();
        }
    }
    conn.out.close();
    if let Some(frame) = close_frame {
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
    conn.close("the connection closed");
    conn.finished.cancel();
}

/// True when calls this end serves are accepted but not yet answered, other than the
/// `in_batch` answers already taken for this write (each accepted call holds a pending
/// permit until its final frame has been flushed).
fn answers_due(conn: &ConnShared, in_batch: usize) -> bool {
    let accepted = conn.limits.max_pending_calls.saturating_sub(conn.pending.available_permits());
    accepted > in_batch
}

/// Encodes one frame in `buf` (reused from frame to frame) and copies it into the
/// message that carries it: one exact-size allocation per frame. (Handing over a
/// `Vec` with spare capacity would cost `Bytes` a second allocation for its header.)
fn message(encoding: Encoding, frame: &Frame, buf: &mut Vec<u8>) -> Message {
    buf.clear();
    buf.reserve(size_hint(frame));
    encoding.encode_frame(frame, buf);
    crate::metrics::bytes_sent(buf.len());
    match encoding {
        Encoding::MsgPack => Message::Binary(Bytes::copy_from_slice(buf)),
        Encoding::Json => {
            // The JSON encoder only writes valid UTF-8 (escaped strings and payloads that
            // were valid JSON text), so this check never fails in practice.
            match std::str::from_utf8(buf) {
                Ok(s) => Message::Text(Utf8Bytes::from(s)),
                Err(_) => Message::Binary(Bytes::copy_from_slice(buf)),
            }
        }
    }
}

/// What a queued item counts against the outgoing budget: about its encoded size.
fn out_size(out: &Out) -> usize {
    match out {
        Out::Frame(f) | Out::Final(f, _) | Out::Notification(f) | Out::Refusal(f) => size_hint(f),
        Out::Ping | Out::Close(_) | Out::Written(_) => 0,
    }
}

/// Room for a frame's head and its payload, so encoding rarely reallocates.
fn size_hint(frame: &Frame) -> usize {
    let payload = match frame {
        Frame::Call { params, .. } => params.as_bytes().len() + 32,
        Frame::Result { value, .. } | Frame::Item { value, .. } => value.as_bytes().len(),
        Frame::Error { error, .. } | Frame::Warning { warning: error, .. } => {
            error.message.len() + error.data.as_ref().map_or(0, |d| d.as_bytes().len())
        }
        Frame::Notify { value, .. } => value.as_bytes().len() + 32,
        Frame::State { patch, .. } => patch.as_bytes().len() + 32,
        _ => 32,
    };
    payload + 24
}
