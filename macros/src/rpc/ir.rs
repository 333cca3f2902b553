//! What `#[rpc]` understood about a function: one [`Method`] with one [`Arg`] per
//! parameter, in declaration order, and the classified return type.

use syn::{Attribute, Ident, Type, Visibility};

use crate::docs::Docs;
use crate::validate_attr::Constraints;

/// One `#[rpc]` function.
pub struct Method {
    /// Visibility of the function, given to the method's marker type too.
    pub vis: Visibility,
    /// The function's name; also the marker type's name.
    pub ident: Ident,
    /// The method's full dotted name on the wire.
    pub name: String,
    /// The doc comment, which becomes the method's description.
    pub docs: Docs,
    /// `Some(note)` when the function is `#[deprecated]`.
    pub deprecated: Option<String>,
    /// `async fn`, or a plain `fn` returning `impl Future`: the call is awaited.
    pub awaited: bool,
    /// What each parameter receives, in order.
    pub args: Vec<ArgKind>,
    /// The return type.
    pub ret: Return,
}

/// What the runtime passes for a parameter.
///
/// By default a type named `Context` or `State<T>` comes from the call and one named
/// `Streaming<T>` is the input stream; `#[context]` and `#[param]` on the parameter
/// say which it is whatever its name. Either way the generated code goes through a
/// trait (`FromContext`, `InputStream`), so a type taken for the wrong kind is one
/// error at the parameter.
pub enum ArgKind {
    /// Built from the call by `FromContext`: `Context`, `State<T>`, or the user's own.
    FromContext(Type),
    /// `Streaming<T>`: the items the caller streams, with `T`.
    Streaming { ty: Type, item: Type },
    /// Anything else: a field of the request.
    Request(Box<RequestParam>),
}

/// A parameter that the caller sends by name.
pub struct RequestParam {
    /// The Rust name (without `mut`).
    pub ident: Ident,
    /// The type.
    pub ty: Type,
    /// Declared constraints, moved off the function onto the generated params struct.
    pub constraints: Constraints,
    /// `#[serde(..)]`, `#[schemars(..)]` and `#[doc]` attributes, moved likewise.
    pub field_attrs: Vec<Attribute>,
    /// The key the caller uses: the name, or a `#[serde(rename)]`.
    pub wire_name: String,
    /// The params struct keeps the type as written instead of a type parameter: one of
    /// its attributes changes what serde or schemars require of the type
    /// (`#[serde(default)]`, `#[serde(with)]`, `#[schemars(with)]`, ...).
    pub concrete: bool,
}

/// The return type, taken apart.
pub struct Return {
    /// What a successful call produces.
    pub output: Output,
    /// The typed error of `Result<_, E>`, if the function returns a `Result`.
    pub error: Option<ErrorType>,
}

/// The success side of the return type.
pub enum Output {
    /// A single value (`T`, or `()` when nothing is returned).
    Value(Type),
    /// A stream of items.
    Stream(StreamItem),
}

/// The item type of a returned stream.
pub struct StreamItem {
    /// The value of each item.
    pub ty: Type,
    /// Items are `Result<T, E>`: each may fail on its own.
    pub fallible: bool,
}

/// The error type of a `Result` return.
pub enum ErrorType {
    /// `Result<T, E>`: `E` as written.
    Explicit(Type),
    /// A one-argument alias such as `io::Result<T>`: the error type is recovered from the
    /// whole return type by the generated code.
    OfAlias(Type),
}

/// The call shape, as in PROTOCOL.md section 3.1: the schema document's own type.
pub use volley_schema::Shape;

impl Method {
    /// The call shape: a `Streaming` parameter and/or a stream return.
    pub fn shape(&self) -> Shape {
        let input = self.streaming_item().is_some();
        let output = matches!(self.ret.output, Output::Stream(_));
        match (input, output) {
            (false, false) => Shape::Unary,
            (false, true) => Shape::ServerStream,
            (true, false) => Shape::ClientStream,
            (true, true) => Shape::BidiStream,
        }
    }

    /// The item type of the `Streaming` parameter, if there is one.
    pub fn streaming_item(&self) -> Option<&Type> {
        self.args.iter().find_map(|a| match a {
            ArgKind::Streaming { item, .. } => Some(item),
            _ => None,
        })
    }

    /// The request parameters, in order.
    pub fn request_params(&self) -> impl Iterator<Item = &RequestParam> {
        self.args.iter().filter_map(|a| match a {
            ArgKind::Request(p) => Some(&**p),
            _ => None,
        })
    }
}
