//! Reading types by their shape: the macro sees tokens, not resolved types, so
//! `Context`, `State<T>`, `Streaming<T>`, `Result<T, E>` and `impl Stream<Item = T>` are
//! recognised by the last segment of their path, wherever they were imported from.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, PathSegment, ReturnType, Type, TypeParamBound};

/// Looks through invisible groups (types passed through `macro_rules!`) and parentheses.
pub fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => peel(&g.elem),
        Type::Paren(p) => peel(&p.elem),
        other => other,
    }
}

/// The last segment of a plain path type (`a::b::C<T>` gives `C<T>`).
pub fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match peel(ty) {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// The type arguments of a segment, lifetimes and bindings left out.
pub fn type_args(seg: &PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The item type of a stream return: `impl Stream<Item = T>`, `Box<dyn Stream<Item = T>>`,
/// `Pin<Box<dyn Stream<Item = T> + Send>>`, or futures' `BoxStream<'a, T>`.
pub fn stream_item(ty: &Type) -> Option<Type> {
    let ty = peel(ty);
    let bounds = match ty {
        Type::ImplTrait(t) => Some(&t.bounds),
        Type::TraitObject(t) => Some(&t.bounds),
        _ => None,
    };
    if let Some(bounds) = bounds {
        return bounds.iter().find_map(|b| assoc_of_bound(b, "Stream", "Item"));
    }
    let seg = last_segment(ty)?;
    match seg.ident.to_string().as_str() {
        "Pin" | "Box" => type_args(seg).first().and_then(|t| stream_item(t)),
        "BoxStream" | "LocalBoxStream" => type_args(seg).last().map(|t| (*t).clone()),
        _ => None,
    }
}

/// `X` in `impl Future<Output = X>`.
pub fn future_output(ty: &Type) -> Option<Type> {
    match peel(ty) {
        Type::ImplTrait(t) => t.bounds.iter().find_map(|b| assoc_of_bound(b, "Future", "Output")),
        _ => None,
    }
}

fn assoc_of_bound(bound: &TypeParamBound, trait_name: &str, assoc: &str) -> Option<Type> {
    let TypeParamBound::Trait(t) = bound else { return None };
    let seg = t.path.segments.last()?;
    if seg.ident != trait_name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        GenericArgument::AssocType(b) if b.ident == assoc => Some(b.ty.clone()),
        _ => None,
    })
}

/// The first `impl Trait` inside `ty`, if any.
pub fn find_impl_trait(ty: &Type) -> Option<Span> {
    find(ty, &|t| matches!(t, Type::ImplTrait(_)))
}

/// The first borrow inside `ty`: a reference (even `&'static`, which cannot be decoded
/// into), or a lifetime other than `'static`.
pub fn find_borrow(ty: &Type) -> Option<Span> {
    if let Some(span) = find(ty, &|t| matches!(t, Type::Reference(_))) {
        return Some(span);
    }
    find_lifetime(ty)
}

fn find_lifetime(ty: &Type) -> Option<Span> {
    let mut found = None;
    walk(ty, &mut |t| {
        if let Type::Path(p) = t {
            for seg in &p.path.segments {
                if let PathArguments::AngleBracketed(a) = &seg.arguments {
                    for arg in &a.args {
                        if let GenericArgument::Lifetime(l) = arg {
                            if l.ident != "static" && found.is_none() {
                                found = Some(l.span());
                            }
                        }
                    }
                }
            }
        }
    });
    found
}

fn find(ty: &Type, pred: &dyn Fn(&Type) -> bool) -> Option<Span> {
    let mut found = None;
    walk(ty, &mut |t| {
        if found.is_none() && pred(t) {
            found = Some(t.span());
        }
    });
    found
}

/// Visits `ty` and every type nested in it.
fn walk(ty: &Type, f: &mut dyn FnMut(&Type)) {
    f(ty);
    match ty {
        Type::Array(a) => walk(&a.elem, f),
        Type::Group(g) => walk(&g.elem, f),
        Type::Paren(p) => walk(&p.elem, f),
        Type::Ptr(p) => walk(&p.elem, f),
        Type::Reference(r) => walk(&r.elem, f),
        Type::Slice(s) => walk(&s.elem, f),
        Type::Tuple(t) => t.elems.iter().for_each(|e| walk(e, f)),
        Type::Path(p) => {
            if let Some(q) = &p.qself {
                walk(&q.ty, f);
            }
            for seg in &p.path.segments {
                match &seg.arguments {
                    PathArguments::AngleBracketed(a) => {
                        for arg in &a.args {
                            match arg {
                                GenericArgument::Type(t) => walk(t, f),
                                GenericArgument::AssocType(b) => walk(&b.ty, f),
                                _ => {}
                            }
                        }
                    }
                    PathArguments::Parenthesized(p) => {
                        p.inputs.iter().for_each(|t| walk(t, f));
                        if let ReturnType::Type(_, t) = &p.output {
                            walk(t, f);
                        }
                    }
                    PathArguments::None => {}
                }
            }
        }
        Type::ImplTrait(t) => walk_bounds(t.bounds.iter(), f),
        Type::TraitObject(t) => walk_bounds(t.bounds.iter(), f),
        _ => {}
    }
}

fn walk_bounds<'a>(bounds: impl Iterator<Item = &'a TypeParamBound>, f: &mut dyn FnMut(&Type)) {
    for b in bounds {
        if let TypeParamBound::Trait(t) = b {
            if let Some(seg) = t.path.segments.last() {
                if let PathArguments::AngleBracketed(a) = &seg.arguments {
                    for arg in &a.args {
                        match arg {
                            GenericArgument::Type(t) => walk(t, f),
                            GenericArgument::AssocType(b) => walk(&b.ty, f),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn s(t: Option<Type>) -> String {
        t.map(|t| t.into_token_stream().to_string()).unwrap_or_default()
    }

    #[test]
    fn stream_items_in_the_accepted_forms() {
        assert_eq!(s(stream_item(&parse_quote!(impl Stream<Item = u32> + Send))), "u32");
        assert_eq!(s(stream_item(&parse_quote!(impl futures::Stream<Item = Result<String, E>>))), "Result < String , E >");
        assert_eq!(s(stream_item(&parse_quote!(Pin<Box<dyn Stream<Item = u8> + Send>>))), "u8");
        assert_eq!(s(stream_item(&parse_quote!(BoxStream<'static, i64>))), "i64");
        assert!(stream_item(&parse_quote!(Vec<u8>)).is_none());
        assert!(stream_item(&parse_quote!(impl Iterator<Item = u8>)).is_none());
    }

    #[test]
    fn borrows_are_found_anywhere() {
        assert!(find_borrow(&parse_quote!(&str)).is_some());
        assert!(find_borrow(&parse_quote!(Vec<&'a str>)).is_some());
        assert!(find_borrow(&parse_quote!(Cow<'a, str>)).is_some());
        assert!(find_borrow(&parse_quote!(Cow<'static, str>)).is_none());
        assert!(find_borrow(&parse_quote!(&'static str)).is_some());
        assert!(find_borrow(&parse_quote!(Option<Vec<String>>)).is_none());
    }
}
