//! One live connection, on either end: the reader that judges incoming frames with the
//! call table, the writer that batches outgoing frames into one flush, the calls this
//! end serves and the calls it makes. The server and the client both run this.

pub(crate) mod budget;
mod incoming;
mod outgoing;
mod reader;
mod writer;

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

use crate::context::{CallShared, ConnectionInfo};
use crate::protocol::{CallId, CallTable, ErrorBody, Frame, Metadata, Payload, Role};
use crate::router::Routes;
use crate::streaming::{InEvent, StreamControl};

pub use outgoing::{CallOptions, ClientStreamCall, Response, StreamSender};
pub(crate) use incoming::send_leading;

/// Limits that keep one connection from using more than its share. Every limit has a
/// default a production server can live with; README "Limits" lists them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest frame accepted, in bytes (default 1 MiB). Larger frames are answered with
    /// `FRAME_TOO_LARGE` and the connection goes on.
    pub max_frame_size: usize,
    /// Incoming calls that run at once on one connection (default 256).
    pub max_concurrent_calls: usize,
    /// Incoming calls accepted (running or waiting to run) before more are refused with
    /// `UNAVAILABLE` (default 4096).
    pub max_pending_calls: usize,
    /// Credit granted for each incoming stream (default 32 items).
    pub window: u32,
    /// The most credit this end honours for a stream it sends, whatever the peer grants
    /// (default 1024 items). Credit beyond it is not an error; it is not used.
    pub max_window: u32,
    /// Notifications queued for a slow peer before they are dropped (default 256).
    pub notify_queue: usize,
    /// Bytes of outgoing frames queued for the peer before this end stops reading from
    /// it and stream producers wait (default 4 MiB).
    pub max_queued_bytes: usize,
    /// Bytes received from the peer that this end holds at once: parameters of calls
    /// not yet started, stream items not yet consumed, client metadata (default 8 MiB).
    /// What would go past it is refused with `UNAVAILABLE`.
    pub max_held_bytes: usize,
    /// Bytes of client metadata (keys and values) one call may carry (default 64 KiB).
    pub max_metadata_bytes: usize,
    /// How often this end pings a quiet peer (default 20 s); `None` turns heartbeats off.
    pub heartbeat_interval: Option<std::time::Duration>,
    /// How long a peer may stay silent (no frame, no pong) past a heartbeat before the
    /// connection is closed with code 4000 (default 20 s).
    pub heartbeat_timeout: std::time::Duration,
    /// A connection with no open call and no subscription, from whose peer nothing but
    /// pongs arrived for this long, is closed with code 1000 (default 5 minutes);
    /// `None` keeps idle connections open. Servers only: a client keeps its connection.
    pub idle_timeout: Option<std::time::Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 1 << 20,
            max_concurrent_calls: 256,
            max_pending_calls: 4096,
            window: crate::protocol::DEFAULT_WINDOW,
            max_window: 1024,
            notify_queue: 256,
            max_queued_bytes: 4 << 20,
            max_held_bytes: 8 << 20,
            max_metadata_bytes: 64 << 10,
            heartbeat_interval: Some(std::time::Duration::from_secs(20)),
            heartbeat_timeout: std::time::Duration::from_secs(20),
            idle_timeout: Some(std::time::Duration::from_secs(300)),
        }
    }
}

/// WebSocket close codes this end sends (PROTOCOL.md section 1).
pub(crate) mod close_code {
    /// The connection was idle past the idle timeout.
    pub const IDLE: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A message above the WebSocket layer's hard size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The peer answered no heartbeat in time.
    pub const HEARTBEAT: u16 = 4000;
}

/// What the writer sends. A final frame carries the permit of its call, so a peer that
/// does not read cannot make this end queue more than `max_pending_calls` answers.
pub(crate) enum Out {
    Frame(Frame),
    Final(Frame, Option<OwnedSemaphorePermit>),
    Notification(Frame),
    /// An answer to a bad frame outside any open call (`ERROR` on id 0 or a stale id).
    Refusal(Frame),
    /// A WebSocket ping (heartbeat).
    Ping,
    /// Nothing to send: the sender is told once everything queued before it has been
    /// written and flushed (dropped unanswered if the connection closes first).
    Written(tokio::sync::oneshot::Sender<()>),
    /// Stop writing: send this close frame (if any), then close the socket.
    Close(Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>),
}

/// What the connection keeps per open call.
#[derive(Clone, Default)]
pub(crate) struct Slot {
    /// Where received items, metadata and finals go.
    pub inbox: Option<mpsc::UnboundedSender<InEvent>>,
    /// Cancelled when the call is cancelled or the connection closes.
    pub cancel: CancellationToken,
    /// Cancelled when the receiver asks the producer to stop gracefully.
    pub stop: CancellationToken,
    /// Items this end may still send.
    pub credit: Option<Arc<Semaphore>>,
    /// For incoming calls: the handler's context, to merge client metadata into.
    pub call: Option<Arc<CallShared>>,
    /// For calls this end made: warnings passed to the inbox so far; past
    /// `MAX_WARNINGS` they are only logged, so a peer cannot grow an unread inbox with
    /// them. Calls this end serves only log the caller's warnings.
    pub warnings: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

/// The retry hint (`retry_after_ms` in the error's data) of refusals for a full budget.
pub(crate) const RETRY_AFTER_MS: u64 = 100;

/// `UNAVAILABLE` for what would take the connection past its held-bytes budget:
/// `what` would take it past, and the data names the limit and the retry hint.
pub(crate) fn over_held_budget(limits: &Limits, what: &str) -> crate::Error {
    let limit = limits.max_held_bytes;
    crate::Error::new(crate::ErrorCode::UNAVAILABLE, format!("{what} would take this connection past its budget of {limit} bytes; retry later"))
        .with_data(serde_json::json!({ "limit": limit, "retry_after_ms": RETRY_AFTER_MS }))
}

/// Metadata entries a call's client metadata may hold; a peer that sends more in `META`
/// frames fails the call instead of growing it.
pub(crate) const MAX_METADATA_ENTRIES: usize = 128;

pub(crate) struct ConnShared {
    pub info: Arc<ConnectionInfo>,
    pub role: Role,
    pub table: Mutex<CallTable<Slot>>,
    pub out: writer::OutQueue,
    /// Bytes received and still held for calls (see [`budget`]).
    pub held: budget::Budget,
    pub routes: Arc<Routes>,
    pub limits: Limits,
    pub pending: Arc<Semaphore>,
    pub running: Arc<Semaphore>,
    pub queued_notifications: Arc<AtomicUsize>,
    pub dropped_notifications: AtomicUsize,
    /// Notifications from the peer dropped since the local receiver was last told
    /// (client side: its queue was full).
    pub dropped_incoming: AtomicUsize,
    pub closed: CancellationToken,
    /// Cancelled once the writer has stopped and the socket is closed.
    pub finished: CancellationToken,
    /// What a new incoming call's entry holds between the table accepting its `CALL` and
    /// `incoming::accept` routing it (in the same step); shared, so that brief stand-in
    /// costs no allocation per call.
    pub placeholder: Slot,
    pub subscriptions: Mutex<crate::topics::Subscriptions>,
    /// Shared states whose patches were dropped for a full queue: the peer gets a full
    /// replacement once the queue drains.
    pub stale_states: Mutex<std::collections::BTreeSet<String>>,
    /// Notifications from the peer waiting for their handlers (the server side).
    pub inbound: crate::topics::inbound::InboundQueue,
    /// For each group of sequential methods, the end of the last call accepted in it:
    /// the next call starts once that one is done.
    pub sequences: Mutex<std::collections::HashMap<Arc<str>, tokio::sync::oneshot::Receiver<()>>>,
    /// This connection's own documents of the states declared per connection.
    pub own_states: Mutex<std::collections::HashMap<String, crate::shared_state::OwnDoc>>,
    /// Where this connection's session of each machine is (absent: its initial state).
    pub machines: Mutex<std::collections::HashMap<Arc<str>, &'static str>>,
    /// Transitions and data events pushed by this connection's sessions, for pacing.
    pub machine_pushes: AtomicUsize,
}

impl ConnShared {
    /// Queues a frame for an open call; dropped if the call is no longer open.
    pub fn send_for_call(&self, id: CallId, frame: Frame) -> bool {
        let open = self.table.lock().unwrap().get(id).is_some();
        if open {
            let _ = self.out.send(Out::Frame(frame));
        }
        open
    }

    /// Queues a `WARNING` for an incoming call, if that call (not another that reuses
    /// its id) is still open. Checked and queued under the table's lock, so it cannot
    /// land after the call's final frame.
    pub fn warn_call(&self, call: &Arc<CallShared>, frame: Frame) -> bool {
        let table = self.table.lock().unwrap();
        let open = table.get(call.id).is_some_and(|entry| entry.slot.call.as_ref().is_some_and(|c| Arc::ptr_eq(c, call)));
        if open {
            let _ = self.out.send(Out::Frame(frame));
        }
        open
    }

    /// Queues a call's final frame and closes the call; dropped if it was already closed.
    pub fn finish(&self, id: CallId, frame: Frame, permit: Option<OwnedSemaphorePermit>) -> bool {
        let slot = self.table.lock().unwrap().close(id);
        match slot {
            Some(_) => {
                let _ = self.out.send(Out::Final(frame, permit));
                true
            }
            None => false,
        }
    }

    /// Queues a frame that belongs to no open call (answers to bad frames). Every bad
    /// frame is answered: what bounds them is the outgoing budget, past which the reader
    /// stops reading the peer's frames.
    pub fn refuse(&self, frame: Frame) {
        let _ = self.out.send(Out::Refusal(frame));
    }

    /// An `ERROR` frame.
    pub fn error_frame(&self, id: CallId, error: &crate::Error, trailers: Metadata) -> Frame {
        Frame::Error { id, error: self.error_body(error), trailers }
    }

    /// An error's code, message and data in this connection's encoding, as `ERROR` and
    /// `WARNING` frames carry them.
    pub fn error_body(&self, error: &crate::Error) -> ErrorBody {
        let data = error.data.as_ref().and_then(|d| self.info.encoding.encode_value(d).ok());
        ErrorBody { code: error.code, message: error.message.clone(), data }
    }

    /// Encodes a value in this connection's encoding.
    pub fn encode<T: serde::Serialize + ?Sized>(&self, v: &T) -> Result<Payload, crate::Error> {
        self.info.encoding.encode_value(v).map_err(|e| crate::Error::internal(format!("could not encode: {e}")))
    }

    /// Fails every open call and stops the writer. Called once when the socket is done.
    pub fn close(&self, reason: &str) {
        if self.closed.is_cancelled() {
            return;
        }
        self.closed.cancel();
        let slots = self.table.lock().unwrap().drain();
        for (_, slot) in slots {
            slot.cancel.cancel();
            if let Some(inbox) = slot.inbox {
                let _ = inbox.send(InEvent::Error(crate::Error::connection(reason.to_owned()), Metadata::new()));
            }
        }
        let _ = self.out.send(Out::Close(None));
    }

    /// True when nothing is going on: no open call and no subscription.
    pub fn is_idle(&self) -> bool {
        if !self.table.lock().unwrap().is_empty() {
            return false;
        }
        self.subscriptions.lock().unwrap().is_empty()
    }

    /// An event that will not reach its inbox: the bytes of an item in it are no
    /// longer held.
    pub fn consumed_event(&self, event: InEvent) {
        if let InEvent::Item(p) = event {
            self.held.release(p.0.len());
        }
    }

    /// Closes the connection with a WebSocket close frame carrying `code` and `reason`,
    /// after whatever is already queued. Open calls fail as with [`ConnShared::close`].
    pub fn close_with(&self, code: u16, reason: &str) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let frame = CloseFrame { code: code.into(), reason: reason.to_owned().into() };
        let _ = self.out.send(Out::Close(Some(frame)));
        self.close(reason);
    }
}

impl StreamControl for ConnShared {
    fn consumed(&self, bytes: usize) {
        self.held.release(bytes);
    }

    fn grant(&self, id: CallId, n: u32) {
        let mut table = self.table.lock().unwrap();
        if table.get(id).is_some() {
            table.granted(id, n);
            let _ = self.out.send(Out::Frame(Frame::Credit { id, n }));
        }
    }

    fn receiver_dropped(&self, id: CallId) {
        let (outbound, slot) = {
            let mut table = self.table.lock().unwrap();
            let Some(entry) = table.get(id) else { return };
            if entry.outbound {
                (true, table.close(id))
            } else {
                (false, None)
            }
        };
        if outbound {
            // A caller dropped the stream it was reading: cancel the call.
            if let Some(slot) = slot {
                slot.cancel.cancel();
            }
            let _ = self.out.send(Out::Frame(Frame::Cancel { id, reason: None }));
        } else {
            // A handler dropped its input stream: ask the caller to stop sending.
            let _ = self.out.send(Out::Frame(Frame::Stop { id }));
        }
    }
}

/// A handle to the peer at the other end of a connection: make calls, send
/// notifications, watch the connection close. Cheap to clone.
#[derive(Clone)]
pub struct Peer(pub(crate) Arc<ConnShared>);

impl Peer {
    /// The connection's id.
    pub fn connection_id(&self) -> u64 {
        self.0.info.id
    }

    /// What is known about the connection.
    pub fn info(&self) -> &ConnectionInfo {
        &self.0.info
    }

    /// True once the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.0.closed.is_cancelled()
    }

    /// Completes when the connection closes.
    pub async fn closed(&self) {
        self.0.closed.cancelled().await
    }

    /// Closes the connection. Calls in flight fail with a connection error.
    pub fn close(&self) {
        self.0.close("the connection was closed");
    }

    /// Closes the connection with a WebSocket close frame (`code`, `reason`).
    pub(crate) fn close_with(&self, code: u16, reason: &str) {
        self.0.close_with(code, reason);
    }

    /// Completes once the socket is closed and nothing more will be written to it.
    pub(crate) async fn finished(&self) {
        self.0.finished.cancelled().await
    }

    /// Sends a one-way notification on `topic` to this peer, subscribed or not. When
    /// this end's notification queue for the peer is full (it does not read), the
    /// notification is dropped and the peer told with a `DATA_LOSS` warning later.
    pub fn notify<T: serde::Serialize + ?Sized>(&self, topic: &str, value: &T) -> Result<(), crate::Error> {
        let value = self.0.encode(value)?;
        crate::topics::enqueue(&self.0, Frame::Notify { topic: topic.to_owned(), value });
        Ok(())
    }

    /// Number of calls open on the connection, in both directions.
    pub fn open_calls(&self) -> usize {
        self.0.table.lock().unwrap().len()
    }

    /// Notifications and state patches queued for the peer and not yet written. Never
    /// more than `Limits::notify_queue`: past it, notifications are dropped (and the
    /// peer warned) and states are sent again in full once the queue drains.
    pub fn queued_notifications(&self) -> usize {
        self.0.queued_notifications.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("connection", &self.0.info.id).finish()
    }
}

/// Starts serving a WebSocket: spawns the reader and writer tasks and returns the peer
/// handle. `routes` are the methods this end serves.
pub(crate) fn start<S>(
    ws: WebSocketStream<S>,
    role: Role,
    info: ConnectionInfo,
    routes: Arc<Routes>,
    limits: Limits,
) -> Peer
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use futures_util::StreamExt;
    let (sink, stream) = ws.split();
    let shared = Arc::new(ConnShared {
        info: Arc::new(info),
        role,
        table: Mutex::new(CallTable::new(role)),
        out: writer::OutQueue::new(limits.max_queued_bytes),
        held: budget::Budget::new(limits.max_held_bytes),
        routes,
        pending: Arc::new(Semaphore::new(limits.max_pending_calls)),
        running: Arc::new(Semaphore::new(limits.max_concurrent_calls)),
        limits,
        queued_notifications: Arc::new(AtomicUsize::new(0)),
        dropped_notifications: AtomicUsize::new(0),
        dropped_incoming: AtomicUsize::new(0),
        closed: CancellationToken::new(),
        finished: CancellationToken::new(),
        placeholder: Slot::default(),
        subscriptions: Mutex::new(Default::default()),
        stale_states: Mutex::new(Default::default()),
        inbound: Mutex::new(None),
        own_states: Mutex::new(Default::default()),
        machines: Mutex::new(Default::default()),
        machine_pushes: AtomicUsize::new(0),
        sequences: Mutex::new(Default::default()),
    });
    // Everything logged about the connection, its calls included (their spans open
    // inside the reader's), carries its id, remote address and encoding.
    let span = tracing::info_span!(
        "connection",
        id = shared.info.id,
        remote = ?shared.info.remote_addr,
        encoding = shared.info.encoding.subprotocol(),
        side = ?role,
    );
    use tracing::Instrument;
    tokio::spawn(writer::run(sink, shared.clone()).instrument(span.clone()));
    tokio::spawn(reader::run(stream, shared.clone()).instrument(span));
    Peer(shared)
}
