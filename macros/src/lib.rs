//! Procedural macros for volley: `#[rpc]` turns a function into a method, `#[model]`
//! makes a type usable in requests and results. Use them through the `volley` crate,
//! which re-exports both; the generated code names only `::volley::__private`.
//!
//! Each macro has the same four files (`rpc/`, `model/`): `parse` reads the input into
//! the IR of `ir`, `check` refuses what cannot be served, and `emit` writes the code.
//! Mistakes are collected and reported together (`ctxt.rs`); what the macros write is
//! pinned by the snapshots of `expansions.rs`.

mod crate_path;
mod ctxt;
mod docs;
#[cfg(test)]
mod expansions;
mod model;
mod rpc;
mod serde_names;
mod types;
mod validate_attr;

use proc_macro::TokenStream;

/// Makes a function a volley method.
///
/// ```ignore
/// /// Adds two numbers.
/// #[volley::rpc]
/// async fn add(a: i64, b: i64) -> i64 { a + b }
///
/// #[volley::rpc(name = "calc.divide")]
/// async fn divide(a: f64, b: f64) -> Result<f64, DivError> { todo!() }
///
/// let router = volley::Router::new().rpc::<add>().rpc::<divide>();
/// ```
///
/// The function stays an ordinary function; next to it the macro defines a type of the
/// same name implementing `volley::Method`, which is what the router registers.
///
/// Parameters come from the call or from the request. A type named `Context` (the
/// call's context) or `State<T>` (shared state) is built with `volley::FromContext`, as
/// is any parameter marked `#[context]` (your own extractor, such as the caller's
/// identity); a type named `Streaming<T>` is the caller's stream (at most one); every
/// other parameter is a field of the request, sent by name, and so is one marked
/// `#[param]` whatever its type is called (your own `State` type, say).
/// `#[serde(rename, default, with, ..)]` and `#[schemars(..)]` on a request parameter
/// apply as on a struct field.
/// `#[validate(range(..))]`, `#[validate(length(..))]` and `#[validate(pattern = "..")]`
/// on request parameters are checked before the function runs and appear in the schema.
///
/// The return type is `T`, `Result<T, E>`, `impl Stream<Item = T>`,
/// `impl Stream<Item = Result<T, E>>` or `Result<impl Stream<..>, E>`. A `Streaming`
/// parameter and/or a stream return choose the call shape (unary, server stream, client
/// stream, bidirectional). The doc comment becomes the method's description and
/// `#[deprecated]` marks it deprecated in the schema.
///
/// Arguments: `name = "dotted.name"` (default: the function's name; names in the
/// `volley.` namespace are reserved), and `crate = "::path"` when the volley dependency
/// is renamed in Cargo.toml (the generated code names `::volley` otherwise).
///
/// Next to the `Method` impl, the marker type gets `call` and `call_with` for typed calls
/// from Rust: `add::call(&client, 1, 2).await`.
#[proc_macro_attribute]
pub fn rpc(args: TokenStream, item: TokenStream) -> TokenStream {
    rpc::expand(args.into(), item.into()).into()
}

/// Makes a struct or enum a volley model: derives serde's `Serialize` and
/// `Deserialize`, schemars' `JsonSchema` and volley's `Validate`.
///
/// ```ignore
/// #[volley::model]
/// struct Signup {
///     /// The user's name.
///     #[validate(length(min = 1, max = 32))]
///     name: String,
///     #[validate(range(min = 13, max = 130))]
///     age: u8,
///     #[validate(pattern = "^[a-z0-9.]+@[a-z0-9.]+$")]
///     email: String,
///     address: Option<Address>,
/// }
/// ```
///
/// `#[validate]` constraints are checked on every incoming value and appear in the JSON
/// Schema (`minimum`, `maxLength`, `pattern`, ...). Fields whose type is itself a model
/// are validated too, with paths such as `address.zip` or `tags[2].label` that follow
/// serde's renaming. `#[serde(...)]` and `#[schemars(...)]` attributes pass through.
/// The one argument, `#[model(crate = "::path")]`, roots the generated code at a
/// renamed volley dependency, as `#[rpc(crate = ..)]` does.
#[proc_macro_attribute]
pub fn model(args: TokenStream, item: TokenStream) -> TokenStream {
    model::expand(args.into(), item.into()).into()
}
