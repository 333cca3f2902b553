//! The numbered, named error codes of PROTOCOL.md section 7.

use std::fmt;

/// A numbered error code carried by `ERROR` and `WARNING` frames.
///
/// The named constants are the codes volley itself uses; their numbers never change.
/// Applications may use any code from 1000 up ([`ErrorCode::APPLICATION`] is the one a
/// handler's own error type gets by default).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i64);

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $num:literal; )*) => {
        impl ErrorCode {
            $( $(#[doc = $doc])* pub const $name: ErrorCode = ErrorCode($num); )*

            /// Every code volley defines, with its name and one-line description.
            pub const ALL: &'static [(ErrorCode, &'static str, &'static str)] = &[
                $( (ErrorCode($num), stringify!($name), concat!($($doc),*)), )*
            ];
        }
    };
}

codes! {
    /// A frame could not be decoded, or is not a valid volley frame.
    BAD_FRAME = 400;
    /// Credentials are missing or wrong.
    UNAUTHENTICATED = 401;
    /// Authenticated, but not allowed.
    PERMISSION_DENIED = 403;
    /// No method of that name.
    METHOD_NOT_FOUND = 404;
    /// The session's current state does not accept that event.
    EVENT_NOT_ALLOWED = 405;
    /// A transition to a state the current one does not list as a target.
    TRANSITION_NOT_ALLOWED = 406;
    /// No operation of that id: it never existed, or its result is no longer kept.
    OPERATION_NOT_FOUND = 407;
    /// The call's timeout passed before it finished.
    DEADLINE_EXCEEDED = 408;
    /// A CALL reused an id that is open or not above the highest one used.
    DUPLICATE_CALL_ID = 409;
    /// A frame named a call that was never opened.
    UNKNOWN_CALL = 410;
    /// A frame broke a rule of the protocol.
    PROTOCOL_VIOLATION = 412;
    /// A frame is larger than the receiver's limit.
    FRAME_TOO_LARGE = 413;
    /// A text frame on the MessagePack protocol, or a binary frame on the JSON protocol.
    WRONG_ENCODING = 415;
    /// Parameters missing, of the wrong type, or failing a declared constraint.
    INVALID_PARAMS = 422;
    /// A stream item arrived without credit.
    CREDIT_EXCEEDED = 429;
    /// The call was cancelled.
    CANCELLED = 499;
    /// The handler failed unexpectedly.
    INTERNAL = 500;
    /// This peer does not serve calls, or not of this shape.
    UNIMPLEMENTED = 501;
    /// The peer is shutting down or at its limit of calls.
    UNAVAILABLE = 503;
    /// The method's own error type; the data is a value of that type.
    APPLICATION = 1000;
    /// Warning: notifications were dropped for a slow receiver.
    DATA_LOSS = 299;
    /// Warning: the method called is deprecated.
    DEPRECATED = 298;
}

impl ErrorCode {
    /// The code's name (`"METHOD_NOT_FOUND"`), or `None` for an application code.
    pub fn name(self) -> Option<&'static str> {
        Self::ALL.iter().find(|(c, _, _)| *c == self).map(|(_, n, _)| *n)
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "ErrorCode({})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named() {
        let mut seen = std::collections::HashSet::new();
        for (code, name, doc) in ErrorCode::ALL {
            assert!(seen.insert(code.0), "duplicate code {}", code.0);
            assert_eq!(code.name(), Some(*name));
            assert!(!doc.is_empty());
        }
        assert_eq!(ErrorCode(1234).name(), None);
        assert_eq!(format!("{:?}", ErrorCode::CANCELLED), "CANCELLED(499)");
    }
}
