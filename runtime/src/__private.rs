//! The one stable path that `#[rpc]` and `#[model]` output names. Not public API.

pub use futures_core::Stream;
pub use regex;
pub use schemars;
pub use serde;

pub use crate::error::{IntoCallError, Never};
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
pub trait RpcParam {}
impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> RpcParam for T {}

/// A type that can be an `#[rpc]` result or stream item.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an #[rpc] function",
    label = "the result type must implement `Serialize` and `JsonSchema`",
    note = "derive them with `#[volley::model]` on the type"
)]
pub trait RpcResult {}
impl<T: serde::Serialize + schemars::JsonSchema> RpcResult for T {}

/// Compile-time check that a parameter type fits (emitted spanned on the parameter).
pub const fn assert_param<T: RpcParam>() {}
/// Compile-time check that a result type fits (emitted spanned on the return type).
pub const fn assert_result<T: RpcResult>() {}
