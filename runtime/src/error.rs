//! The error a call ends with, on both sides of the wire.

use std::fmt;

use serde::Serialize;

use crate::protocol::ErrorCode;

/// The error of a call: a code, a message and optional structured data.
///
/// Handlers may return it directly (`Result<T, volley::Error>`) to choose a code, or
/// return their own error type (anything `Serialize + JsonSchema + Display`), which
/// volley sends as [`ErrorCode::APPLICATION`] with the value as typed data. Clients
/// receive every failure as an `Error`; [`Error::data_as`] decodes a typed error back.
#[derive(Clone, PartialEq)]
pub struct Error {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable message.
    pub message: String,
    /// Structured data, if any.
    pub data: Option<serde_json::Value>,
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), data: None }
    }

    /// Attaches structured data.
    pub fn with_data(mut self, data: impl Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// An application error carrying a typed value, as a handler's own error type is sent.
    pub fn application<E: Serialize + fmt::Display + ?Sized>(err: &E) -> Self {
        Error { code: ErrorCode::APPLICATION, message: err.to_string(), data: serde_json::to_value(err).ok() }
    }

    /// `INTERNAL`: something went wrong in the handler. The message is sent to the peer.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL, message)
    }

    /// `INVALID_PARAMS` with one entry per failing field.
    pub fn invalid_params(errors: Vec<crate::validate::FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] if one.path.is_empty() => format!("invalid parameters: {}", one.message),
            [one] => format!("invalid parameter `{}`: {}", one.path, one.message),
            many => {
                let names: Vec<&str> = many.iter().map(|e| e.path.as_str()).collect();
                format!("invalid parameters: {}", names.join(", "))
            }
        };
        Error::new(ErrorCode::INVALID_PARAMS, message)
            .with_data(serde_json::json!({ "errors": errors }))
    }

    /// `CANCELLED`.
    pub fn cancelled() -> Self {
        Self::new(ErrorCode::CANCELLED, "the call was cancelled")
    }

    /// A connection-level failure seen by a caller: the connection closed or broke while
    /// the call was in flight. Uses `UNAVAILABLE`.
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UNAVAILABLE, message)
    }

    /// Decodes the data of an `APPLICATION` error into the method's error type.
    pub fn data_as<E: serde::de::DeserializeOwned>(&self) -> Option<E> {
        self.data.as_ref().and_then(|d| serde_json::from_value(d.clone()).ok())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("code", &self.code).field("message", &self.message);
        if let Some(d) = &self.data {
            s.field("data", d);
        }
        s.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Conversion of a handler's error into the error sent on the wire, and the schema of
/// its data. Implemented for [`Error`], for every `Serialize + JsonSchema + Display`
/// type, and for the "no error" type the macro uses for infallible handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a volley handler's error type",
    note = "a handler's error must implement `Serialize + JsonSchema + Display` (so clients get it as typed data), or be `volley::Error`",
    note = "`#[volley::model]` adds Serialize and JsonSchema; implement Display (for example with thiserror)"
)]
pub trait IntoCallError: Send + 'static {
    /// The wire error.
    fn into_call_error(self) -> Error;
    /// The schema of the error's data, if it is typed.
    fn error_schema(gen: &mut schemars::SchemaGenerator) -> Option<schemars::Schema>;
}

impl IntoCallError for Error {
    fn into_call_error(self) -> Error {
        self
    }
    fn error_schema(_: &mut schemars::SchemaGenerator) -> Option<schemars::Schema> {
        None
    }
}

impl<E> IntoCallError for E
where
    E: Serialize + schemars::JsonSchema + fmt::Display + Send + 'static,
{
    fn into_call_error(self) -> Error {
        Error::application(&self)
    }
    fn error_schema(gen: &mut schemars::SchemaGenerator) -> Option<schemars::Schema> {
        Some(gen.subschema_for::<E>())
    }
}

/// The error type of handlers that cannot fail. No value of it exists.
#[derive(Debug, Clone, Copy)]
pub enum Never {}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl IntoCallError for Never {
    fn into_call_error(self) -> Error {
        match self {}
    }
    fn error_schema(_: &mut schemars::SchemaGenerator) -> Option<schemars::Schema> {
        None
    }
}

/// How much of a string the peer sent an error message quotes at most, in characters.
pub(crate) const QUOTE_LIMIT: usize = 128;

/// A bounded prefix of `s` (the peer's own text) to quote in an error: a peer must not
/// be able to make this end echo a megabyte back, or echo it twice.
pub(crate) fn bounded(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LIMIT) {
        None => s.to_owned(),
        Some((end, _)) => format!("{}...", &s[..end]),
    }
}

/// The message of a caught panic, for the log.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook that
    /// [`record_panic_locations`] installs.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once) a panic hook that notes each panic's location for
/// [`panic_location`], then runs the hook that was there before.
pub(crate) fn record_panic_locations() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            LAST_PANIC.with(|p| *p.borrow_mut() = at);
            previous(info);
        }));
    });
}

/// Where the panic just caught on this thread happened, if recorded.
pub(crate) fn panic_location() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}
