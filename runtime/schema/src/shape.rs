//! Who serves a method and how its messages flow.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which peer serves a method, or publishes a topic (PROTOCOL.md section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The server serves it; clients call it.
    Server,
    /// Clients serve it; the server calls it.
    Client,
}

/// A method's call shape (PROTOCOL.md section 3.1), named in the schema as its `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One request, one result.
    Unary,
    /// One request, a stream of items back.
    ServerStream,
    /// A stream of items from the caller, one result back.
    ClientStream,
    /// Streams both ways.
    BidiStream,
}

impl Shape {
    /// Every shape, in the order PROTOCOL.md lists them.
    pub const ALL: [Shape; 4] = [Shape::Unary, Shape::ServerStream, Shape::ClientStream, Shape::BidiStream];

    /// The shape's name in the schema (`unary`, `server_stream`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Unary => "unary",
            Shape::ServerStream => "server_stream",
            Shape::ClientStream => "client_stream",
            Shape::BidiStream => "bidi_stream",
        }
    }

    /// True when the caller streams items to the callee.
    pub fn caller_streams(self) -> bool {
        matches!(self, Shape::ClientStream | Shape::BidiStream)
    }

    /// True when the callee streams items back.
    pub fn callee_streams(self) -> bool {
        matches!(self, Shape::ServerStream | Shape::BidiStream)
    }

    /// True when the call ends with one `RESULT` value (unary and client streams).
    pub fn has_result(self) -> bool {
        !self.callee_streams()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_schema_kinds() {
        for shape in Shape::ALL {
            let json = serde_json::to_value(shape).unwrap();
            assert_eq!(json, shape.as_str());
            assert_eq!(serde_json::from_value::<Shape>(json).unwrap(), shape);
        }
        assert_eq!(serde_json::to_value(Side::Client).unwrap(), "client");
    }

    #[test]
    fn who_streams() {
        let streams: Vec<(bool, bool, bool)> =
            Shape::ALL.iter().map(|s| (s.caller_streams(), s.callee_streams(), s.has_result())).collect();
        assert_eq!(streams, [(false, false, true), (false, true, false), (true, false, true), (true, true, false)]);
    }

    #[test]
    fn an_unknown_kind_is_named_in_the_error() {
        let e = serde_json::from_str::<Shape>("\"operation\"").unwrap_err().to_string();
        assert!(e.contains("unknown variant `operation`") && e.contains("bidi_stream"), "{e}");
    }
}
