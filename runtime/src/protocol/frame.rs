//! Frames: the messages of PROTOCOL.md section 2, independent of their encoding.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::ErrorCode;

/// A call id. Odd ids belong to the client, even ids to the server, `0` is the
/// connection itself.
pub type CallId = u64;

/// Metadata: string keys to string values (PROTOCOL.md section 6).
pub type Metadata = BTreeMap<String, String>;

/// A value already encoded in the connection's encoding (JSON text or MessagePack
/// bytes), carried through the protocol core without being decoded.
///
/// Handlers decode it straight into their parameter types; nothing in between builds
/// an intermediate tree.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Payload(pub Bytes);

impl Payload {
    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "Payload({s})"),
            Err(_) => write!(f, "Payload({:02x?})", &self.0[..]),
        }
    }
}

/// The `ext` of a `CALL` frame (PROTOCOL.md section 3): what the caller asks of the
/// call beside its parameters. The caller's API for setting them is
/// [`crate::CallOptions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallExt {
    /// Client metadata.
    pub metadata: Metadata,
    /// Timeout in milliseconds, relative to the callee's receipt of the call.
    pub timeout_ms: Option<u64>,
    /// The window (`ext.w`): the credit the caller grants for the items the callee
    /// streams back.
    pub window: Option<u32>,
}

impl CallExt {
    /// True when nothing needs to be sent.
    pub fn is_empty(&self) -> bool {
        self.metadata.is_empty() && self.timeout_ms.is_none() && self.window.is_none()
    }
}

/// Code, message and optional data of an `ERROR` or `WARNING` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable message.
    pub message: String,
    /// Structured data, encoded.
    pub data: Option<Payload>,
}

/// The kind number that starts every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum FrameKind {
    Call = 0,
    Result = 1,
    Error = 2,
    Item = 3,
    End = 4,
    Cancel = 5,
    Stop = 6,
    Credit = 7,
    Meta = 8,
    Warning = 9,
    Notify = 10,
    State = 11,
}

impl FrameKind {
    /// The kind for a number, if it is one.
    pub fn from_u64(n: u64) -> Option<Self> {
        use FrameKind::*;
        Some(match n {
            0 => Call,
            1 => Result,
            2 => Error,
            3 => Item,
            4 => End,
            5 => Cancel,
            6 => Stop,
            7 => Credit,
            8 => Meta,
            9 => Warning,
            10 => Notify,
            11 => State,
            _ => return None,
        })
    }

    /// The upper-case name used in PROTOCOL.md and in error data.
    pub fn name(self) -> &'static str {
        use FrameKind::*;
        match self {
            Call => "CALL",
            Result => "RESULT",
            Error => "ERROR",
            Item => "ITEM",
            End => "END",
            Cancel => "CANCEL",
            Stop => "STOP",
            Credit => "CREDIT",
            Meta => "META",
            Warning => "WARNING",
            Notify => "NOTIFY",
            State => "STATE",
        }
    }
}

/// One protocol frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Opens a call.
    Call {
        /// The new call's id.
        id: CallId,
        /// The method's full name.
        method: String,
        /// The parameters, an encoded map.
        params: Payload,
        /// Metadata, timeout, window.
        options: CallExt,
    },
    /// The final value of a unary or client-streaming call.
    Result {
        /// The call.
        id: CallId,
        /// The value.
        value: Payload,
        /// Trailing metadata.
        trailers: Metadata,
    },
    /// Ends a call with an error (or, on id 0, reports a connection-level problem).
    Error {
        /// The call, or 0.
        id: CallId,
        /// Code, message, data.
        error: ErrorBody,
        /// Trailing metadata.
        trailers: Metadata,
    },
    /// One stream item.
    Item {
        /// The call.
        id: CallId,
        /// The item.
        value: Payload,
    },
    /// Ends the sender's stream.
    End {
        /// The call.
        id: CallId,
        /// Trailing metadata.
        trailers: Metadata,
    },
    /// The caller cancels the call: it gives the call up.
    Cancel {
        /// The call.
        id: CallId,
        /// Why, when not a plain cancel.
        reason: Option<(ErrorCode, String)>,
    },
    /// Asks the stream's producer to finish gracefully.
    Stop {
        /// The call.
        id: CallId,
    },
    /// Grants stream credit.
    Credit {
        /// The call.
        id: CallId,
        /// How many more items may be sent.
        n: u32,
    },
    /// Metadata on its own: client metadata from a caller, leading metadata from a callee.
    Meta {
        /// The call.
        id: CallId,
        /// The metadata.
        metadata: Metadata,
    },
    /// A warning on a call (or on the connection, id 0): code, message and data that end nothing.
    Warning {
        /// The call, or 0.
        id: CallId,
        /// Code, message, data.
        warning: ErrorBody,
    },
    /// A one-way message on a topic.
    Notify {
        /// The topic.
        topic: String,
        /// The message.
        value: Payload,
    },
    /// A JSON Patch for a named shared state.
    State {
        /// The state's name.
        name: String,
        /// The patch, an encoded array of RFC 6902 operations.
        patch: Payload,
    },
}

/// Checks a `CREDIT` frame's `n`: a positive count that fits in 32 bits (section 2).
pub(crate) fn credit_count(n: u64) -> Result<u32, &'static str> {
    match u32::try_from(n) {
        Ok(0) => Err("credit must be positive"),
        Ok(n) => Ok(n),
        Err(_) => Err("credit must fit in 32 bits (at most 4294967295)"),
    }
}

impl Frame {
    /// This frame's kind.
    pub fn kind(&self) -> FrameKind {
        match self {
            Frame::Call { .. } => FrameKind::Call,
            Frame::Result { .. } => FrameKind::Result,
            Frame::Error { .. } => FrameKind::Error,
            Frame::Item { .. } => FrameKind::Item,
            Frame::End { .. } => FrameKind::End,
            Frame::Cancel { .. } => FrameKind::Cancel,
            Frame::Stop { .. } => FrameKind::Stop,
            Frame::Credit { .. } => FrameKind::Credit,
            Frame::Meta { .. } => FrameKind::Meta,
            Frame::Warning { .. } => FrameKind::Warning,
            Frame::Notify { .. } => FrameKind::Notify,
            Frame::State { .. } => FrameKind::State,
        }
    }

    /// The call id, for frames that belong to a call (or to the connection, id 0).
    pub fn call_id(&self) -> Option<CallId> {
        match self {
            Frame::Call { id, .. }
            | Frame::Result { id, .. }
            | Frame::Error { id, .. }
            | Frame::Item { id, .. }
            | Frame::End { id, .. }
            | Frame::Cancel { id, .. }
            | Frame::Stop { id }
            | Frame::Credit { id, .. }
            | Frame::Meta { id, .. }
            | Frame::Warning { id, .. } => Some(*id),
            Frame::Notify { .. } | Frame::State { .. } => None,
        }
    }
}
