//! Handler arguments that volley fills in from the call instead of from the request.

use crate::{Context, Error, State};

/// A handler argument that comes from the call itself rather than from the caller's
/// parameters: the call's [`Context`], application [`State<T>`], or a type of your own
/// built from them, such as the user an authentication hook recorded in metadata.
///
/// `#[rpc]` passes a parameter through `FromContext` when its type is named `Context`
/// or `State`, or when it is marked `#[context]`; every other parameter is a field of
/// the request. A failure ends the call with that error before the handler runs.
///
/// ```ignore
/// struct Caller(String);
///
/// impl FromContext for Caller {
///     fn from_context(ctx: &Context) -> Result<Self, Error> {
///         ctx.metadata_value("user").map(Caller).ok_or_else(|| Error::new(ErrorCode::UNAUTHENTICATED, "no user"))
///     }
/// }
///
/// #[rpc]
/// async fn whoami(#[context] caller: Caller) -> String { caller.0 }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an argument volley can pass from the call",
    label = "`#[rpc]` takes this parameter from the call's context",
    note = "volley passes `Context` and `State<T>`; implement `volley::FromContext` for your own type, or mark a request parameter `#[param]` if `{Self}` is a type of yours that the caller sends"
)]
pub trait FromContext: Sized {
    /// Builds the argument for one call.
    fn from_context(ctx: &Context) -> Result<Self, Error>;
}

impl FromContext for Context {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        Ok(ctx.clone())
    }
}

impl<T: Send + Sync + 'static> FromContext for State<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        State::from_context(ctx)
    }
}

/// The type `#[rpc]` passes a `Streaming<T>` parameter: volley's [`Streaming`], and
/// nothing else named like it.
///
/// [`Streaming`]: crate::Streaming
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not volley's `Streaming`",
    label = "`#[rpc]` takes a parameter named `Streaming<T>` as the caller's input stream",
    note = "use `volley::Streaming<T>`, or mark the parameter `#[param]` if `{Self}` is a type of yours that the caller sends"
)]
pub trait InputStream<T>: Sized {
    /// The parameter, from the call's input stream.
    fn from_input(input: crate::Streaming<T>) -> Self;
}

impl<T> InputStream<T> for crate::Streaming<T> {
    fn from_input(input: crate::Streaming<T>) -> Self {
        input
    }
}
