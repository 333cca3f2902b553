//! The one stable path that `#[rpc]` and `#[model]` output names. Not public API.

pub use futures_core::Stream;
pub use regex;
pub use schemars;
pub use serde;

pub use crate::error::{IntoCallError, Never};
pub use crate::from_context::InputStream;
pub use crate::typed_call::TypedCall;
pub use crate::method::{
    bidi_stream, client_stream, server_stream, stream_ok, stream_result, unary, ErrorSchemaFn, MethodDef, MethodInfo,
};
pub use crate::validate::{
    check_length, check_pattern, check_range, AsOptStr, FieldError, HasLength, Num, Validate, ValidateFallback,
    ValidateViaTrait, Violations, Wrap,
};

/// A type that can be an `#[rpc]` parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an #[rpc] parameter",
    label = "this parameter's type must implement `Deserialize` and `JsonSchema`",
    note = "derive them with `#[volley::model]` on the type, or use `Context`, `State<T>` or `Streaming<T>`"
)]
pub trait RpcParam: serde::de::DeserializeOwned + schemars::JsonSchema {}
// `do_not_recommend`: a type that misses either trait is reported as missing
// `RpcParam`, once, with the hint above, rather than once per trait it misses.
#[diagnostic::do_not_recommend]
impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> RpcParam for T {}

/// A type that can be an `#[rpc]` result or stream item.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an #[rpc] function",
    label = "the result type must implement `Serialize` and `JsonSchema`",
    note = "derive them with `#[volley::model]` on the type"
)]
pub trait RpcResult: serde::Serialize + schemars::JsonSchema {}
#[diagnostic::do_not_recommend]
impl<T: serde::Serialize + schemars::JsonSchema> RpcResult for T {}
