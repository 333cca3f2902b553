//! What `#[rpc]` refuses, each with the reason and the way out: signatures it cannot
//! serve, parameters it cannot name on the wire, method names outside the protocol's
//! rules. Every check records into the [`Ctxt`] and lets parsing go on, so all the
//! mistakes in a function are reported together.

use syn::spanned::Spanned;
use syn::{Attribute, Ident, Pat, Signature, Type};

use super::ir::ArgKind;
use crate::ctxt::Ctxt;
use crate::types;

/// Prefix of the names the generated code uses for its own locals.
pub const RESERVED_PREFIX: &str = "__volley";

/// The function as a whole: safe, Rust ABI, not generic, not variadic, no `self`.
pub fn signature(cx: &Ctxt, sig: &Signature) {
    if let Some(u) = &sig.unsafety {
        cx.error_spanned_by(u, "`#[rpc]` functions cannot be `unsafe`: the router calls them for any client; wrap the unsafe part in a safe function");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "`#[rpc]` functions cannot have an `extern` ABI; remove it");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let span = if sig.generics.params.is_empty() { sig.generics.where_clause.span() } else { sig.generics.span() };
        cx.error_at(span, "`#[rpc]` functions cannot be generic: the method's request and result types must be known to build its schema; use concrete types");
    }
    if let Some(v) = &sig.variadic {
        cx.error_spanned_by(v, "`#[rpc]` functions cannot be variadic");
    }
    if let Some(r) = sig.receiver() {
        cx.error_spanned_by(r, "`#[rpc]` functions cannot take `self`; use a free function, and pass shared data with a `State<T>` parameter");
    }
}

/// Checks a method name: dot-separated words of letters, digits and `_`, outside the
/// reserved `volley.` namespace.
pub fn method_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the method name is empty".into());
    }
    if name == "volley" || name.starts_with("volley.") {
        return Err(format!(
            "method name `{name}` is reserved: names in the `volley.` namespace belong to the protocol; choose another prefix"
        ));
    }
    for part in name.split('.') {
        let mut chars = part.chars();
        let ok = match chars.next() {
            Some(c) => (c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'),
            None => false,
        };
        if !ok {
            return Err(format!(
                "method name `{name}` is malformed: each dot-separated part must start with a letter or `_` and hold only letters, digits and `_`, as in `calc.divide`"
            ));
        }
    }
    Ok(())
}

/// Attributes left on a parameter once volley's own are taken: `#[cfg]` would change
/// the request type between builds.
pub fn param_attrs(cx: &Ctxt, attrs: &[Attribute]) {
    if let Some(cfg) = attrs.iter().find(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr")) {
        cx.error_spanned_by(cfg, "`#[cfg]` on parameters of `#[rpc]` functions is not supported: the request type must be the same in every build");
    }
}

/// The parameter's name: a plain binding, not a pattern, outside the reserved prefix.
/// Parameters volley fills in may be `_`; request parameters need a name, the key the
/// caller sends.
pub fn param_name(cx: &Ctxt, pat: &Pat, is_request: bool) -> Option<Ident> {
    let ident = match pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
        Pat::Wild(_) if !is_request => return None,
        Pat::Wild(w) => {
            cx.error_spanned_by(w, "request parameters need a name: the name is the key the caller sends; use `_name` for an unused one");
            return None;
        }
        other => {
            cx.error_spanned_by(
                other,
                "patterns are not supported in `#[rpc]` parameters: each request parameter is sent by name; bind a name and destructure in the body",
            );
            return None;
        }
    };
    if ident.to_string().trim_start_matches("r#").starts_with(RESERVED_PREFIX) {
        cx.error_spanned_by(&ident, format!("parameter names starting with `{RESERVED_PREFIX}` are reserved for the code `#[rpc]` generates; rename it"));
    }
    Some(ident)
}

/// A request parameter's type: owned and concrete, since the request is decoded into
/// it and described by its schema.
pub fn request_type(cx: &Ctxt, ty: &Type) {
    if let Some(borrow) = types::find_borrow(ty) {
        cx.error_at(borrow, "borrowed parameter types are not supported: the request is decoded into owned values; take `String` instead of `&str`, `Vec<T>` instead of `&[T]`");
    } else if let Some(imp) = types::find_impl_trait(ty) {
        cx.error_at(imp, "`impl Trait` parameters are not supported: the request type must be concrete to build its schema");
    }
}

/// At most one `Streaming<T>`: a call has one input stream.
pub fn one_input_stream(cx: &Ctxt, params: &[ArgKind]) {
    let streams = params.iter().filter_map(|a| match a {
        ArgKind::Streaming { ty, .. } => Some(ty),
        _ => None,
    });
    for extra in streams.skip(1) {
        cx.error_spanned_by(extra, "a method takes at most one `Streaming<T>` parameter: a call has one input stream; send a `Streaming` of an enum to mix item kinds");
    }
}

#[cfg(test)]
mod tests {
    use super::method_name;

    #[test]
    fn method_names() {
        assert!(method_name("calc.divide").is_ok());
        assert!(method_name("_x.y2").is_ok());
        assert!(method_name("volleyball").is_ok());
        assert!(method_name("calc.").is_err());
        assert!(method_name("2fa").is_err());
        assert!(method_name("a-b").is_err());
        assert!(method_name("volley").is_err());
    }
}
