//! `Streaming<T>`: a stream of items arriving from the peer, with credit returned as
//! they are consumed.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::protocol::{CallId, Encoding, Metadata, Payload};
use crate::validate::Violations;
use crate::Error;

/// What the connection delivers to a call's receiving end.
#[derive(Debug)]
pub(crate) enum InEvent {
    /// Leading metadata (caller side) or more client metadata (callee side).
    Meta(Metadata),
    /// A stream item.
    Item(Payload),
    /// The sender's stream ended, with trailers.
    End(Metadata),
    /// The final value (caller side of unary / client-stream calls).
    Result(Payload, Metadata),
    /// The call failed.
    Error(Error, Metadata),
    /// A `WARNING` on the call.
    Warning(Error),
}

/// Warnings kept per call at most; a peer sending more is not worth remembering.
pub(crate) const MAX_WARNINGS: usize = 16;

/// The connection's side of a stream's receiving end: it grants credit and, when the
/// receiver goes away early, cancels or stops the call.
pub(crate) trait StreamControl: Send + Sync {
    /// A received item of `bytes` bytes was consumed (or dropped unread): the
    /// connection no longer holds it.
    fn consumed(&self, bytes: usize);
    /// Grants `n` more items on call `id`.
    fn grant(&self, id: CallId, n: u32);
    /// The receiver was dropped before the stream finished.
    fn receiver_dropped(&self, id: CallId);
}

/// The receiving end of a call's incoming events.
pub(crate) struct Inbox {
    pub rx: mpsc::UnboundedReceiver<InEvent>,
    pub id: CallId,
    pub window: u32,
    pub control: Arc<dyn StreamControl>,
}

impl Drop for Inbox {
    fn drop(&mut self) {
        // Items still queued are no longer held once the inbox is gone.
        self.rx.close();
        while let Ok(event) = self.rx.try_recv() {
            if let InEvent::Item(p) = event {
                self.control.consumed(p.0.len());
            }
        }
    }
}

/// A stream of `T` sent by the peer: the client stream a handler receives, or the server
/// stream a client reads. Yields `Err` once if the stream fails, then ends.
///
/// Credit is returned to the sender as items are consumed (half a window at a time),
/// so a fast reader never waits and a slow one never makes the sender buffer more than
/// the window. Dropping it before the end cancels (or, for a handler's input, stops)
/// the stream on the other side.
pub struct Streaming<T> {
    inbox: Inbox,
    encoding: Encoding,
    consumed: u32,
    done: bool,
    leading: Option<Metadata>,
    trailers: Option<Metadata>,
    /// Declared constraints of the items (set by `#[rpc]` for a handler's input).
    check: Option<fn(&T, &mut Violations)>,
    /// Items received so far, to name a failing one.
    received: u64,
    warnings: Vec<Error>,
    _item: PhantomData<fn() -> T>,
}

impl<T> Streaming<T> {
    pub(crate) fn new(inbox: Inbox, encoding: Encoding) -> Self {
        Streaming { inbox, encoding, consumed: 0, done: false, leading: None, trailers: None, check: None, received: 0, warnings: Vec::new(), _item: PhantomData }
    }

    /// Checks every item with `check` (the item type's declared constraints); an item
    /// that fails arrives as an `INVALID_PARAMS` error naming the item (`[3].from`).
    #[doc(hidden)]
    pub fn checked(mut self, check: fn(&T, &mut Violations)) -> Self {
        self.check = Some(check);
        self
    }

    /// The leading metadata the sender attached, once it has arrived.
    pub fn leading_metadata(&self) -> Option<&Metadata> {
        self.leading.as_ref()
    }

    /// The trailing metadata, once the stream has ended.
    pub fn trailers(&self) -> Option<&Metadata> {
        self.trailers.as_ref()
    }

    /// The warnings the sender attached to the call so far (`DEPRECATED`, say), at
    /// most 16.
    pub fn warnings(&self) -> &[Error] {
        &self.warnings
    }

    /// True once the stream has ended or failed.
    pub fn is_finished(&self) -> bool {
        self.done
    }
}

impl<T: DeserializeOwned> Stream for Streaming<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let event = match this.inbox.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::cancelled())));
                }
                Poll::Ready(Some(e)) => e,
            };
            match event {
                InEvent::Meta(m) => {
                    this.leading.get_or_insert_with(Metadata::new).extend(m);
                }
                InEvent::Warning(w) => {
                    if this.warnings.len() < MAX_WARNINGS {
                        this.warnings.push(w);
                    }
                }
                InEvent::Item(p) => {
                    this.inbox.control.consumed(p.0.len());
                    this.consumed += 1;
                    if this.consumed >= (this.inbox.window / 2).max(1) {
                        this.inbox.control.grant(this.inbox.id, this.consumed);
                        this.consumed = 0;
                    }
                    let index = this.received;
                    this.received += 1;
                    let item = this.encoding.decode_value::<T>(p.as_bytes()).map_err(|e| {
                        let path = crate::protocol::join_path(&format!("[{index}]"), &e.path);
                        Error::invalid_params(vec![crate::validate::FieldError { path, message: e.message }])
                    });
                    let item = match (item, this.check) {
                        (Ok(item), Some(check)) => {
                            let mut v = Violations::new();
                            v.at(&format!("[{index}]"), |v| check(&item, v));
                            if v.is_empty() {
                                Ok(item)
                            } else {
                                Err(Error::invalid_params(v.into_errors()))
                            }
                        }
                        (item, _) => item,
                    };
                    return Poll::Ready(Some(item));
                }
                InEvent::End(t) | InEvent::Result(_, t) => {
                    this.done = true;
                    this.trailers = Some(t);
                    return Poll::Ready(None);
                }
                InEvent::Error(e, t) => {
                    this.done = true;
                    this.trailers = Some(t);
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl<T> Drop for Streaming<T> {
    fn drop(&mut self) {
        if !self.done {
            self.inbox.control.receiver_dropped(self.inbox.id);
        }
    }
}

impl<T> std::fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming").field("call", &self.inbox.id).field("done", &self.done).finish()
    }
}
