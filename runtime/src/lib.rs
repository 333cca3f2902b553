#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod protocol;
mod error;
pub mod validate;

pub use error::{Error, IntoCallError, Never};
pub use protocol::{Encoding, ErrorCode, Metadata};
