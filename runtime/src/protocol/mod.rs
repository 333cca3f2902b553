//! The sans-IO protocol core: frames, the two encodings, error codes and the
//! per-connection call table. Nothing here touches a socket or spawns a task: bytes go
//! in, frames and verdicts come out, so everything is testable in memory and reusable
//! over any transport that keeps message boundaries.

mod call_table;
mod encoding;
mod error_code;
mod finite;
mod frame;
mod json;
mod msgpack;

pub use call_table::{CallEntry, CallTable, Finish, Role, Shape, Verdict, Violation};
pub use encoding::{DecodeError, Encoding, ValueError};
pub(crate) use encoding::join_path;
pub use error_code::ErrorCode;
pub use frame::{CallId, CallExt, ErrorBody, Frame, FrameKind, Metadata, Payload};

/// The credit a caller grants for items streamed back when its `CALL` names none.
pub const DEFAULT_WINDOW: u32 = 32;

#[cfg(test)]
mod tests;
