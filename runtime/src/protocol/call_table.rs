//! The per-connection call table: which calls are open, who owns them, what each side
//! may still send, and whether an incoming frame keeps the rules of PROTOCOL.md.
//!
//! Sans-IO: it sees frames and answers verdicts. The transport decides what to do with
//! them (deliver to a handler, send an error, drop).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::{CallId, ErrorCode, Frame, FrameKind};

/// Which end of the WebSocket this peer is. Decides the parity of the ids it allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opened the WebSocket; allocates odd ids.
    Client,
    /// Accepted it; allocates even ids.
    Server,
}

impl Role {
    /// True if `id` belongs to calls this role starts.
    pub fn owns(self, id: CallId) -> bool {
        id != 0 && (id % 2 == 1) == (self == Role::Client)
    }

    fn first_id(self) -> CallId {
        match self {
            Role::Client => 1,
            Role::Server => 2,
        }
    }
}

/// The shape of a call (PROTOCOL.md section 3.1): one type with the schema document.
pub use volley_schema::Shape;

/// The protocol state of one open call.
#[derive(Debug)]
pub struct CallEntry<S> {
    /// True when this peer started the call.
    pub outbound: bool,
    /// The call's shape; `None` for an incoming call not yet routed.
    pub shape: Option<Shape>,
    /// The other side's stream has ended.
    pub peer_ended: bool,
    /// Items the other side may still send before it needs more credit.
    pub recv_credit: u64,
    /// (Outbound calls) the callee's leading metadata or first data has arrived.
    pub callee_started: bool,
    /// Whatever the transport keeps per call.
    pub slot: S,
}

/// What to do with an incoming frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<S> {
    /// A new incoming call was opened; route it and call [`CallTable::route`].
    NewCall,
    /// A frame for an open call: hand it to the call.
    Deliver,
    /// A final frame (the callee's answer to our call, or the caller's `CANCEL` of one
    /// we serve): the call is closed, and here is its slot.
    Finished(S),
    /// A frame for a call that already finished (it crossed a final frame): drop it.
    Stale,
    /// A connection-level frame (`NOTIFY`, `STATE`, `ERROR`/`WARNING` on id 0).
    Connection,
    /// The frame broke a rule. Answer with `ERROR` on `reply_id` (0 or the call), and if
    /// `finish` names a call, that call must be closed with [`CallTable::close`] (which
    /// hands back its slot, to cancel its handler or fail it).
    Violation(Violation),
}

/// A broken rule, with the answer PROTOCOL.md section 8 prescribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The code to answer with.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// The call the frame named (0 if none).
    pub id: CallId,
    /// The kind of the offending frame.
    pub kind: FrameKind,
    /// The call this closes, if the frame belonged to an open call.
    pub finish: Option<Finish>,
}

/// How a call broken by a violation finishes: what to tell the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// We were the callee: answer `ERROR` on the call.
    AsCallee(CallId),
    /// We were the caller: send `CANCEL` with the code.
    AsCaller(CallId),
}

/// The call table of one connection.
#[derive(Debug)]
pub struct CallTable<S> {
    role: Role,
    next_id: CallId,
    highest_peer_id: CallId,
    calls: HashMap<CallId, CallEntry<S>, IdHash>,
}

/// Hashes call ids for the table: a folded multiply keyed per table from the standard
/// library's random seed. Several times cheaper than SipHash on a lookup made for every
/// frame, and still keyed, so a peer cannot pick ids that collide without knowing the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHash {
    key: u64,
}

impl IdHash {
    fn new() -> Self {
        IdHash { key: std::collections::hash_map::RandomState::new().hash_one(0x766f_6c6c_6579_u64) | 1 }
    }
}

impl BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher { key: self.key, hash: 0 }
    }
}

/// The hasher of [`IdHash`].
#[derive(Debug)]
pub(crate) struct IdHasher {
    key: u64,
    hash: u64,
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 ids are hashed; other input still hashes correctly, a word at a time.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let folded = u128::from(n ^ self.hash ^ self.key) * u128::from(0x5851_f42d_4c95_7f2d_u64 ^ self.key.rotate_left(32));
        self.hash = (folded as u64) ^ ((folded >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

impl<S> CallTable<S> {
    /// An empty table for one end of a connection.
    pub fn new(role: Role) -> Self {
        CallTable { role, next_id: role.first_id(), highest_peer_id: 0, calls: HashMap::with_hasher(IdHash::new()) }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Number of open calls, both directions.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// True when no call is open.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The entry of an open call.
    pub fn get(&self, id: CallId) -> Option<&CallEntry<S>> {
        self.calls.get(&id)
    }

    /// The entry of an open call, mutably.
    pub fn get_mut(&mut self, id: CallId) -> Option<&mut CallEntry<S>> {
        self.calls.get_mut(&id)
    }

    /// Opens an outgoing call and returns its id. `window` is the credit granted for the
    /// items the callee streams back (ignored for shapes where it streams nothing).
    pub fn open(&mut self, shape: Shape, window: u32, slot: S) -> CallId {
        let id = self.next_id;
        self.next_id += 2;
        let recv_credit = if shape.callee_streams() { window as u64 } else { 0 };
        self.calls.insert(
            id,
            CallEntry { outbound: true, shape: Some(shape), peer_ended: false, recv_credit, callee_started: false, slot },
        );
        id
    }

    /// Records the shape of a newly received call once its method is known, with the
    /// slot the transport keeps for it.
    pub fn route(&mut self, id: CallId, shape: Shape, slot: S) {
        if let Some(e) = self.calls.get_mut(&id) {
            e.shape = Some(shape);
            e.slot = slot;
        }
    }

    /// Closes a call (final frame sent or received, cancel, violation), returning its slot.
    pub fn close(&mut self, id: CallId) -> Option<S> {
        self.calls.remove(&id).map(|e| e.slot)
    }

    /// Uses up a peer's call id for a `CALL` that could not be decoded: true when `id`
    /// was above every id the peer used so far (it now is the highest), false when it
    /// was not (the `CALL` is a duplicate). `id` must have the peer's parity.
    pub fn claim_peer_id(&mut self, id: CallId) -> bool {
        if id <= self.highest_peer_id {
            return false;
        }
        self.highest_peer_id = id;
        true
    }

    /// Records credit this end granted to the other side.
    pub fn granted(&mut self, id: CallId, n: u32) {
        if let Some(e) = self.calls.get_mut(&id) {
            e.recv_credit += n as u64;
        }
    }

    /// Closes every call, returning their slots (the connection is gone).
    pub fn drain(&mut self) -> Vec<(CallId, S)> {
        self.calls.drain().map(|(id, e)| (id, e.slot)).collect()
    }

    /// Judges an incoming frame against the rules. A new incoming call gets a
    /// placeholder `slot` that [`CallTable::route`] replaces.
    pub fn receive(&mut self, frame: &Frame, placeholder: impl FnOnce() -> S) -> Verdict<S> {
        let kind = frame.kind();
        let Some(id) = frame.call_id() else { return Verdict::Connection };
        let violation = |code, message: String, finish| {
            Verdict::Violation(Violation { code, message, id, kind, finish })
        };
        if id == 0 {
            return match kind {
                FrameKind::Error | FrameKind::Warning => Verdict::Connection,
                _ => violation(ErrorCode::PROTOCOL_VIOLATION, format!("{} frame needs a call id other than 0", kind.name()), None),
            };
        }
        if kind == FrameKind::Call {
            if self.role.owns(id) {
                let whose = if self.role == Role::Server { "client calls use odd ids" } else { "server calls use even ids" };
                return violation(ErrorCode::PROTOCOL_VIOLATION, format!("CALL with id {id}: {whose}"), None);
            }
            if id <= self.highest_peer_id {
                let message = if self.calls.contains_key(&id) {
                    format!("call id {id} is already in use")
                } else {
                    format!("call id {id} is not above the highest id used so far ({})", self.highest_peer_id)
                };
                return violation(ErrorCode::DUPLICATE_CALL_ID, message, None);
            }
            self.highest_peer_id = id;
            self.calls.insert(
                id,
                CallEntry { outbound: false, shape: None, peer_ended: false, recv_credit: 0, callee_started: false, slot: placeholder() },
            );
            return Verdict::NewCall;
        }
        let Some(entry) = self.calls.get_mut(&id) else {
            let seen = if self.role.owns(id) { id < self.next_id } else { id <= self.highest_peer_id };
            return if seen {
                Verdict::Stale
            } else {
                violation(ErrorCode::UNKNOWN_CALL, format!("{} for call {id}, which was never opened", kind.name()), None)
            };
        };
        let Some(shape) = entry.shape else {
            // A frame for an incoming call still being routed: only possible if the
            // transport routes asynchronously; treat it as an ordinary delivery.
            return Verdict::Deliver;
        };
        if entry.outbound {
            // We are the caller; the frame comes from the callee.
            let end = Some(Finish::AsCaller(id));
            match kind {
                FrameKind::Result if !shape.callee_streams() => {
                    Verdict::Finished(self.calls.remove(&id).expect("entry exists").slot)
                }
                FrameKind::Error => {
                    Verdict::Finished(self.calls.remove(&id).expect("entry exists").slot)
                }
                FrameKind::End if shape.callee_streams() => {
                    Verdict::Finished(self.calls.remove(&id).expect("entry exists").slot)
                }
                FrameKind::Item if shape.callee_streams() => {
                    if entry.recv_credit == 0 {
                        return violation(ErrorCode::CREDIT_EXCEEDED, format!("item without credit on call {id}"), end);
                    }
                    entry.recv_credit -= 1;
                    entry.callee_started = true;
                    Verdict::Deliver
                }
                FrameKind::Meta => {
                    if entry.callee_started {
                        return violation(
                            ErrorCode::PROTOCOL_VIOLATION,
                            format!("leading metadata on call {id} after the callee's first data or metadata"),
                            end,
                        );
                    }
                    entry.callee_started = true;
                    Verdict::Deliver
                }
                FrameKind::Credit | FrameKind::Stop if shape.caller_streams() => Verdict::Deliver,
                FrameKind::Credit | FrameKind::Stop | FrameKind::Warning => Verdict::Deliver,
                _ => violation(
                        ErrorCode::PROTOCOL_VIOLATION,
                        format!("{} is not allowed from the callee of a {} call", kind.name(), shape_name(shape)),
                        end,
                    ),
            }
        } else {
            // We are the callee; the frame comes from the caller.
            let end = Some(Finish::AsCallee(id));
            match kind {
                FrameKind::Item if shape.caller_streams() && !entry.peer_ended => {
                    if entry.recv_credit == 0 {
                        return violation(ErrorCode::CREDIT_EXCEEDED, format!("item without credit on call {id}"), end);
                    }
                    entry.recv_credit -= 1;
                    Verdict::Deliver
                }
                FrameKind::End if shape.caller_streams() && !entry.peer_ended => {
                    entry.peer_ended = true;
                    Verdict::Deliver
                }
                FrameKind::Item | FrameKind::End if entry.peer_ended => {
                    violation(ErrorCode::PROTOCOL_VIOLATION, format!("{} on call {id} after its END", kind.name()), end)
                }
                FrameKind::Cancel => {
                    Verdict::Finished(self.calls.remove(&id).expect("entry exists").slot)
                }
                FrameKind::Stop | FrameKind::Credit | FrameKind::Meta | FrameKind::Warning => Verdict::Deliver,
                _ => violation(
                        ErrorCode::PROTOCOL_VIOLATION,
                        format!("{} is not allowed from the caller of a {} call", kind.name(), shape_name(shape)),
                        end,
                    ),
            }
        }
    }
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::Unary => "unary",
        Shape::ServerStream => "server_stream",
        Shape::ClientStream => "client_stream",
        Shape::BidiStream => "bidi_stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{CallExt, Metadata, Payload};
    use bytes::Bytes;

    fn p() -> Payload {
        Payload(Bytes::from_static(b"1"))
    }
    fn call(id: CallId) -> Frame {
        Frame::Call { id, method: "m".into(), params: p(), options: CallExt::default() }
    }
    fn item(id: CallId) -> Frame {
        Frame::Item { id, value: p() }
    }
    fn end(id: CallId) -> Frame {
        Frame::End { id, trailers: Metadata::new() }
    }
    fn code(v: Verdict<()>) -> ErrorCode {
        match v {
            Verdict::Violation(v) => v.code,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn ids_have_parity_and_increase() {
        let mut t = CallTable::<()>::new(Role::Client);
        assert_eq!(t.open(Shape::Unary, 0, ()), 1);
        assert_eq!(t.open(Shape::Unary, 0, ()), 3);
        let mut s = CallTable::<()>::new(Role::Server);
        assert_eq!(s.open(Shape::Unary, 0, ()), 2);
        assert_eq!(code(s.receive(&call(2), || ())), ErrorCode::PROTOCOL_VIOLATION);
        assert_eq!(s.receive(&call(5), || ()), Verdict::NewCall);
        assert_eq!(code(s.receive(&call(5), || ())), ErrorCode::DUPLICATE_CALL_ID);
        assert_eq!(code(s.receive(&call(3), || ())), ErrorCode::DUPLICATE_CALL_ID);
    }

    #[test]
    fn stale_frames_are_dropped_and_unknown_ones_reported() {
        let mut s = CallTable::<()>::new(Role::Server);
        assert_eq!(s.receive(&call(1), || ()), Verdict::NewCall);
        s.route(1, Shape::ClientStream, ());
        s.close(1);
        assert_eq!(s.receive(&Frame::Credit { id: 1, n: 1 }, || ()), Verdict::Stale);
        assert_eq!(code(s.receive(&Frame::Cancel { id: 9, reason: None }, || ())), ErrorCode::UNKNOWN_CALL);
        assert_eq!(code(s.receive(&item(7), || ())), ErrorCode::UNKNOWN_CALL);
    }

    #[test]
    fn credit_is_enforced_per_call() {
        let mut s = CallTable::<()>::new(Role::Server);
        s.receive(&call(1), || ());
        s.route(1, Shape::ClientStream, ());
        s.granted(1, 2);
        assert_eq!(s.receive(&item(1), || ()), Verdict::Deliver);
        assert_eq!(s.receive(&item(1), || ()), Verdict::Deliver);
        match s.receive(&item(1), || ()) {
            Verdict::Violation(v) => {
                assert_eq!(v.code, ErrorCode::CREDIT_EXCEEDED);
                assert_eq!(v.finish, Some(Finish::AsCallee(1)));
            }
            other => panic!("{other:?}"),
        }
        assert!(s.close(1).is_some(), "the violating call is still there for the transport to close");
    }

    #[test]
    fn second_end_and_items_on_unary_calls_are_violations() {
        let mut s = CallTable::<()>::new(Role::Server);
        s.receive(&call(1), || ());
        s.route(1, Shape::ClientStream, ());
        assert_eq!(s.receive(&end(1), || ()), Verdict::Deliver);
        assert_eq!(code(s.receive(&end(1), || ())), ErrorCode::PROTOCOL_VIOLATION);
        s.receive(&call(3), || ());
        s.route(3, Shape::Unary, ());
        assert_eq!(code(s.receive(&item(3), || ())), ErrorCode::PROTOCOL_VIOLATION);
    }

    #[test]
    fn caller_side_sees_finals_and_leading_metadata_once() {
        let mut c = CallTable::<()>::new(Role::Client);
        let id = c.open(Shape::ServerStream, 1, ());
        let meta = Frame::Meta { id, metadata: Metadata::new() };
        assert_eq!(c.receive(&meta, || ()), Verdict::Deliver);
        assert_eq!(c.receive(&item(id), || ()), Verdict::Deliver);
        assert_eq!(code(c.receive(&item(id), || ())), ErrorCode::CREDIT_EXCEEDED);
        let id = c.open(Shape::ServerStream, 4, ());
        assert_eq!(c.receive(&item(id), || ()), Verdict::Deliver);
        assert_eq!(code(c.receive(&Frame::Meta { id, metadata: Metadata::new() }, || ())), ErrorCode::PROTOCOL_VIOLATION);
        let id = c.open(Shape::Unary, 0, ());
        assert_eq!(c.receive(&Frame::Result { id, value: p(), trailers: Metadata::new() }, || ()), Verdict::Finished(()));
        assert_eq!(c.receive(&Frame::Result { id, value: p(), trailers: Metadata::new() }, || ()), Verdict::Stale);
    }
}
