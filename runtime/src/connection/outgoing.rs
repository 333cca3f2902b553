//! Calls this end makes: unary, server stream, client stream, bidi. Dropping a pending
//! call or a stream cancels it on the other side.

use std::sync::Arc;
use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{ConnShared, Out, Peer, Slot};
use crate::protocol::{self, CallId, ErrorCode, Frame, Metadata, Payload, Shape};
use crate::streaming::{InEvent, Inbox, StreamControl, Streaming};
use crate::Error;

/// Options of one call: client metadata, timeout, stream window.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Client metadata sent with the call.
    pub metadata: Metadata,
    /// The call fails with `DEADLINE_EXCEEDED` when it has not finished in this time.
    pub timeout: Option<Duration>,
    /// Credit granted for the items the callee streams back (default 32).
    pub window: Option<u32>,
}

impl CallOptions {
    /// No metadata, no timeout, the default window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a client metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the stream window.
    pub fn window(mut self, window: u32) -> Self {
        self.window = Some(window.max(1));
        self
    }
}

/// A finished call's value with the metadata the callee sent.
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The result.
    pub value: T,
    /// Leading metadata.
    pub leading: Metadata,
    /// Trailing metadata.
    pub trailers: Metadata,
    /// Warnings the callee attached to the call (`DEPRECATED`, say), at most 16.
    pub warnings: Vec<Error>,
}

/// Cancels a call on drop unless it finished.
struct Pending {
    conn: Arc<ConnShared>,
    id: CallId,
    armed: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.armed {
            self.conn.receiver_dropped(self.id);
        }
    }
}

impl Peer {
    fn open(
        &self,
        method: &str,
        params: &(impl Serialize + ?Sized),
        options: &CallOptions,
        shape: Shape,
    ) -> Result<(CallId, mpsc::UnboundedReceiver<InEvent>, Slot), Error> {
        let conn = &self.0;
        if conn.closed.is_cancelled() {
            return Err(Error::connection("the connection is closed"));
        }
        let params: Payload = conn.encode(params)?;
        let window = options.window.unwrap_or(protocol::DEFAULT_WINDOW);
        let (tx, rx) = mpsc::unbounded_channel();
        let slot = Slot {
            inbox: Some(tx),
            cancel: CancellationToken::new(),
            stop: CancellationToken::new(),
            credit: shape.caller_streams().then(|| Arc::new(Semaphore::new(0))),
            call: None,
            warnings: Some(Default::default()),
        };
        let frame_options = protocol::CallExt {
            metadata: options.metadata.clone(),
            timeout_ms: options.timeout.map(|t| t.as_millis().min(u64::MAX as u128) as u64),
            window: (shape.callee_streams() && options.window.is_some()).then_some(window),
        };
        let id = {
            // Allocate the id and queue the CALL under one lock, so CALLs leave in id order.
            let mut table = conn.table.lock().unwrap();
            let id = table.open(shape, window, slot.clone());
            let _ = conn.out.send(Out::Frame(Frame::Call { id, method: method.to_owned(), params, options: frame_options }));
            id
        };
        Ok((id, rx, slot))
    }

    /// Calls a unary method and decodes its result.
    ///
    /// ```ignore
    /// let sum: i64 = client.call("add", &serde_json::json!({"a": 1, "b": 2})).await?;
    /// ```
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: &(impl Serialize + ?Sized)) -> Result<T, Error> {
        Ok(self.call_with(method, params, CallOptions::default()).await?.value)
    }

    /// Calls a unary method with options, returning the value with its metadata.
    pub async fn call_with<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &(impl Serialize + ?Sized),
        options: CallOptions,
    ) -> Result<Response<T>, Error> {
        let (id, rx, _) = self.open(method, params, &options, Shape::Unary)?;
        let guard = Pending { conn: self.0.clone(), id, armed: true };
        self.finish_unary(rx, guard, options.timeout).await
    }

    async fn finish_unary<T: DeserializeOwned>(
        &self,
        mut rx: mpsc::UnboundedReceiver<InEvent>,
        guard: Pending,
        timeout: Option<Duration>,
    ) -> Result<Response<T>, Error> {
        let encoding = self.0.info.encoding;
        let wait = async {
            let mut leading = Metadata::new();
            let mut warnings = Vec::new();
            loop {
                match rx.recv().await {
                    Some(InEvent::Meta(m)) => leading.extend(m),
                    Some(InEvent::Warning(w)) => {
                        if warnings.len() < crate::streaming::MAX_WARNINGS {
                            warnings.push(w);
                        }
                    }
                    Some(InEvent::Result(value, trailers)) => {
                        let value = encoding.decode_value::<T>(value.as_bytes()).map_err(|e| {
                            Error::new(ErrorCode::BAD_FRAME, format!("the result does not have the expected type: {e}"))
                        })?;
                        return Ok(Response { value, leading, trailers, warnings });
                    }
                    Some(InEvent::Error(e, _)) => return Err(e),
                    Some(InEvent::Item(_)) | Some(InEvent::End(_)) => {
                        return Err(Error::new(ErrorCode::PROTOCOL_VIOLATION, "stream frames on a unary call"))
                    }
                    None => return Err(Error::connection("the connection closed")),
                }
            }
        };
        let result = match timeout {
            // A little grace, so the callee's own DEADLINE_EXCEEDED (with its trailers)
            // normally arrives first.
            Some(t) => match tokio::time::timeout(t + Duration::from_millis(50), wait).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(ErrorCode::DEADLINE_EXCEEDED, "the call's deadline passed before it finished")),
            },
            None => wait.await,
        };
        // `guard` cancels the call on the way out only if it is still open: after a
        // local timeout, or when this future is dropped before an answer came.
        drop(guard);
        result
    }

    /// Calls a server-streaming method. Items arrive as a [`Streaming`]; dropping it
    /// cancels the call.
    pub fn server_stream<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &(impl Serialize + ?Sized),
        options: CallOptions,
    ) -> Result<Streaming<T>, Error> {
        let (id, rx, _) = self.open(method, params, &options, Shape::ServerStream)?;
        let window = options.window.unwrap_or(protocol::DEFAULT_WINDOW);
        let control: Arc<dyn StreamControl> = self.0.clone();
        if let Some(t) = options.timeout {
            self.watch_deadline(id, t);
        }
        Ok(Streaming::new(Inbox { rx, id, window, control }, self.0.info.encoding))
    }

    /// Calls a client-streaming method: send items with the returned sender, then
    /// `finish` it and await the result.
    pub fn client_stream<I: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        params: &(impl Serialize + ?Sized),
        options: CallOptions,
    ) -> Result<ClientStreamCall<I, T>, Error> {
        let (id, rx, slot) = self.open(method, params, &options, Shape::ClientStream)?;
        let sender = StreamSender { conn: self.0.clone(), id, slot, ended: false, _item: Default::default() };
        Ok(ClientStreamCall { sender, peer: self.clone(), rx, timeout: options.timeout, _out: Default::default() })
    }

    /// Calls a bidirectional method: a sender for the items going out, a stream of
    /// the items coming back.
    pub fn bidi_stream<I: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        params: &(impl Serialize + ?Sized),
        options: CallOptions,
    ) -> Result<(StreamSender<I>, Streaming<T>), Error> {
        let (id, rx, slot) = self.open(method, params, &options, Shape::BidiStream)?;
        let window = options.window.unwrap_or(protocol::DEFAULT_WINDOW);
        let control: Arc<dyn StreamControl> = self.0.clone();
        if let Some(t) = options.timeout {
            self.watch_deadline(id, t);
        }
        let sender = StreamSender { conn: self.0.clone(), id, slot, ended: false, _item: Default::default() };
        Ok((sender, Streaming::new(Inbox { rx, id, window, control }, self.0.info.encoding)))
    }

    /// Fails a stream call locally if the callee has not finished it shortly after its
    /// deadline (the callee normally answers `DEADLINE_EXCEEDED` itself).
    fn watch_deadline(&self, id: CallId, timeout: Duration) {
        let conn = self.0.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout + Duration::from_millis(50)).await;
            let e = Error::new(ErrorCode::DEADLINE_EXCEEDED, "the call's deadline passed before it finished");
            super::reader::finish_call(&conn, protocol::Finish::AsCaller(id), &e);
        });
    }
}

/// The sending half of a client or bidi stream. Each `send` waits for credit from the
/// callee, so a slow callee slows the sender instead of growing a buffer.
pub struct StreamSender<I> {
    conn: Arc<ConnShared>,
    id: CallId,
    slot: Slot,
    ended: bool,
    _item: std::marker::PhantomData<fn(I)>,
}

impl<I: Serialize> StreamSender<I> {
    /// Sends one item, waiting for credit. Fails when the call has ended (the callee
    /// answered early, cancelled, or the connection closed) or the callee asked to stop.
    pub async fn send(&mut self, item: &I) -> Result<(), Error> {
        if self.ended {
            return Err(Error::new(ErrorCode::PROTOCOL_VIOLATION, "the stream was already finished"));
        }
        let value = self.conn.encode(item)?;
        let credit = self.slot.credit.clone().expect("streaming calls have credit");
        tokio::select! {
            biased;
            _ = self.slot.cancel.cancelled() => return Err(Error::cancelled()),
            _ = self.conn.closed.cancelled() => return Err(Error::connection("the connection closed")),
            _ = self.slot.stop.cancelled() => {
                return Err(Error::new(ErrorCode::CANCELLED, "the callee asked the stream to stop"));
            }
            p = credit.acquire() => match p {
                Ok(p) => p.forget(),
                Err(_) => return Err(Error::cancelled()),
            },
        }
        if self.conn.send_for_call(self.id, Frame::Item { id: self.id, value }) {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::CANCELLED, "the call has ended"))
        }
    }

    /// Sends every item of `items` in order, each waiting for credit; returns how many
    /// were sent. Does not end the stream (see [`Self::finish`]).
    pub async fn send_all(&mut self, items: impl futures_core::Stream<Item = I>) -> Result<u64, Error> {
        use futures_util::StreamExt;
        let mut items = std::pin::pin!(items);
        let mut n = 0;
        while let Some(item) = items.next().await {
            self.send(&item).await?;
            n += 1;
        }
        Ok(n)
    }

    /// This sender as a [`futures_util::Sink`] of items, for `stream.forward(sink)` and
    /// the other sink combinators. Each item waits for credit; dropping the sink ends
    /// the stream (`END`).
    pub fn into_sink(self) -> std::pin::Pin<Box<dyn futures_util::Sink<I, Error = Error> + Send>>
    where
        I: Send + Sync + 'static,
    {
        Box::pin(futures_util::sink::unfold(self, |mut sender, item: I| async move {
            sender.send(&item).await?;
            Ok::<_, Error>(sender)
        }))
    }

    /// Sends client metadata in the middle of the stream.
    pub fn send_metadata(&self, metadata: Metadata) -> bool {
        self.conn.send_for_call(self.id, Frame::Meta { id: self.id, metadata })
    }

    /// True once the callee asked the sender to stop (finish with [`Self::finish`]).
    pub fn is_stopped(&self) -> bool {
        self.slot.stop.is_cancelled()
    }

    /// Ends the stream (`END`). Further sends fail.
    pub fn finish(&mut self) {
        if !self.ended {
            self.ended = true;
            self.conn.send_for_call(self.id, Frame::End { id: self.id, trailers: Metadata::new() });
        }
    }

    /// The call's id.
    pub fn call_id(&self) -> CallId {
        self.id
    }
}

impl<I> Drop for StreamSender<I> {
    fn drop(&mut self) {
        if !self.ended {
            // Dropping the sender ends the stream; the call itself goes on.
            self.conn.send_for_call(self.id, Frame::End { id: self.id, trailers: Metadata::new() });
        }
    }
}

/// A client-streaming call in progress.
pub struct ClientStreamCall<I, T> {
    /// Sends the items.
    pub sender: StreamSender<I>,
    peer: Peer,
    rx: mpsc::UnboundedReceiver<InEvent>,
    timeout: Option<Duration>,
    _out: std::marker::PhantomData<fn() -> T>,
}

impl<I: Serialize, T: DeserializeOwned> ClientStreamCall<I, T> {
    /// Sends one item (see [`StreamSender::send`]).
    pub async fn send(&mut self, item: &I) -> Result<(), Error> {
        self.sender.send(item).await
    }

    /// Sends every item of `items` (see [`StreamSender::send_all`]).
    pub async fn send_all(&mut self, items: impl futures_core::Stream<Item = I>) -> Result<u64, Error> {
        self.sender.send_all(items).await
    }

    /// Ends the stream and waits for the result.
    pub async fn finish(mut self) -> Result<Response<T>, Error> {
        self.sender.finish();
        let guard = Pending { conn: self.peer.0.clone(), id: self.sender.id, armed: true };
        self.peer.finish_unary(std::mem::replace(&mut self.rx, mpsc::unbounded_channel().1), guard, self.timeout).await
    }
}
