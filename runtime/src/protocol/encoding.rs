//! The two encodings of the protocol, negotiated by WebSocket subprotocol.

use bytes::Bytes;
use serde::{de::DeserializeOwned, Serialize};

use super::{json, msgpack, CallId, Frame, FrameKind, Payload};

/// How frames and values are encoded on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `volley.v1.json`: JSON in WebSocket text frames.
    Json,
    /// `volley.v1.msgpack`: MessagePack in WebSocket binary frames.
    MsgPack,
}

/// Why a frame could not be decoded. Carries what could be read of the frame's head,
/// so the error can be sent on the right call (PROTOCOL.md section 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The frame's kind, if it could be read.
    pub kind: Option<FrameKind>,
    /// The frame's call id, if it could be read.
    pub id: Option<CallId>,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DecodeError {}

/// A value that did not fit the type it was decoded into, with the path to the
/// offending field (`"b"`, `"items[2].name"`), when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Path to the field, empty for the whole value.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}

impl Encoding {
    /// Both encodings, in the server's order of preference.
    pub const ALL: [Encoding; 2] = [Encoding::MsgPack, Encoding::Json];

    /// The WebSocket subprotocol name.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Encoding::Json => "volley.v1.json",
            Encoding::MsgPack => "volley.v1.msgpack",
        }
    }

    /// The encoding for a subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        match name.trim() {
            "volley.v1.json" => Some(Encoding::Json),
            "volley.v1.msgpack" => Some(Encoding::MsgPack),
            _ => None,
        }
    }

    /// True when frames travel as WebSocket binary messages.
    pub fn is_binary(self) -> bool {
        matches!(self, Encoding::MsgPack)
    }

    /// Appends one encoded frame to `out`.
    pub fn encode_frame(self, frame: &Frame, out: &mut Vec<u8>) {
        match self {
            Encoding::Json => json::encode_frame(frame, out),
            Encoding::MsgPack => msgpack::encode_frame(frame, out),
        }
    }

    /// Encodes one frame into a fresh buffer.
    pub fn frame_to_vec(self, frame: &Frame) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode_frame(frame, &mut out);
        out
    }

    /// Decodes one frame. Payloads are slices of `bytes`, not copies.
    pub fn decode_frame(self, bytes: &Bytes) -> Result<Frame, DecodeError> {
        match self {
            Encoding::Json => json::decode_frame(bytes),
            Encoding::MsgPack => msgpack::decode_frame(bytes),
        }
    }

    /// Reads only a frame's kind and id, for answering a frame that is too large or
    /// otherwise unusable. Never fails; returns what it could read.
    pub fn peek_head(self, bytes: &[u8]) -> (Option<FrameKind>, Option<CallId>) {
        match self {
            Encoding::Json => json::peek_head(bytes),
            Encoding::MsgPack => msgpack::peek_head(bytes),
        }
    }

    /// Encodes a value. Structs become maps with field names in both encodings.
    pub fn encode_value<T: Serialize + ?Sized>(self, value: &T) -> Result<Payload, ValueError> {
        // Encoded into a per-thread scratch buffer and copied out at its exact size: one
        // allocation per value, where a fresh `Vec` costs one to three (its growth, and
        // `Bytes`' header for a `Vec` with spare capacity).
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            // A `Serialize` impl that itself encodes a value finds the buffer in use.
            let Ok(mut out) = scratch.try_borrow_mut() else {
                let mut out = Vec::new();
                self.encode_value_into(value, &mut out)?;
                return Ok(Payload(Bytes::from(out)));
            };
            out.clear();
            let encoded = self.encode_value_into(value, &mut out).map(|()| Payload(Bytes::copy_from_slice(&out)));
            if out.capacity() > 64 << 10 {
                *out = Vec::new();
            }
            encoded
        })
    }

    /// Appends an encoded value to `out`.
    pub fn encode_value_into<T: Serialize + ?Sized>(
        self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), ValueError> {
        let err = |e: &dyn std::fmt::Display| ValueError { path: String::new(), message: e.to_string() };
        match self {
            Encoding::Json => serde_json::to_writer(out, &super::finite::Finite(value)).map_err(|e| err(&e)),
            Encoding::MsgPack => {
                let mut ser = rmp_serde::Serializer::new(out).with_struct_map();
                value.serialize(&mut ser).map_err(|e| err(&e))
            }
        }
    }

    /// Decodes a value, naming the path of the field that did not fit.
    pub fn decode_value<T: DeserializeOwned>(self, payload: &[u8]) -> Result<T, ValueError> {
        // Values nearly always fit: decode without tracking the path, which costs about
        // half the decode, and only when that fails decode again to name the field.
        let fast = match self {
            Encoding::Json => serde_json::from_slice::<T>(payload).ok(),
            Encoding::MsgPack => rmp_serde::from_slice::<T>(payload).ok(),
        };
        match fast {
            Some(value) => Ok(value),
            None => self.decode_value_tracked(payload),
        }
    }

    /// [`Self::decode_value`] with the path to the offending field tracked.
    fn decode_value_tracked<T: DeserializeOwned>(self, payload: &[u8]) -> Result<T, ValueError> {
        let fail = |path: String, message: String| ValueError { path: failure_path(path, &message), message };
        match self {
            Encoding::Json => {
                let mut de = serde_json::Deserializer::from_slice(payload);
                let value = serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| fail(e.path().to_string(), e.inner().to_string()))?;
                de.end().map_err(|e| fail(String::new(), e.to_string()))?;
                Ok(value)
            }
            Encoding::MsgPack => {
                let mut de = rmp_serde::Deserializer::from_read_ref(payload);
                serde_path_to_error::deserialize(&mut de)
                    .map_err(|e| fail(e.path().to_string(), e.inner().to_string()))
            }
        }
    }

    /// Converts an encoded value to a JSON value (for logging, errors, patches).
    pub fn to_json(self, payload: &[u8]) -> Result<serde_json::Value, ValueError> {
        self.decode_value(payload)
    }
}

fn tidy_path(path: String) -> String {
    if path == "." {
        String::new()
    } else {
        path
    }
}

/// The path of a decode failure: serde reports a missing field at the struct that
/// lacks it, so the field's own name is added (`b`, not `""`, for `add {"a": 1}`).
fn failure_path(path: String, message: &str) -> String {
    let path = tidy_path(path);
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
    match missing {
        Some(name) => join_path(&path, name),
        None => path,
    }
}

/// Appends `segment` (a field name, or `[n]`) to a field path (PROTOCOL.md section 8):
/// the parameter's name first, `.name` for a field or map key, `[n]` for an index.
pub(crate) fn join_path(path: &str, segment: &str) -> String {
    if path.is_empty() || segment.is_empty() || segment.starts_with('[') {
        format!("{path}{segment}")
    } else {
        format!("{path}.{segment}")
    }
}
