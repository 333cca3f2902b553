//! `#[rpc]`: parse the function ([`parse`]) into a [`ir::Method`], refusing what cannot be
//! served ([`check`]), then render it ([`emit`]).

pub mod check;
pub mod emit;
pub mod ir;
pub mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ctxt::{with_errors, Ctxt};

/// Expands `#[rpc(args)] item`.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => f,
        Ok(other) => {
            let err = syn::Error::new(item_keyword_span(&other), "`#[rpc]` goes on a function: `#[rpc] async fn add(a: i64, b: i64) -> i64`");
            return with_errors(item, err);
        }
        Err(e) => return with_errors(item, e),
    };
    let cx = Ctxt::new();
    let args = parse::parse_args(&cx, args);
    let krate = args.krate.clone();
    let method = parse::parse_fn(&cx, args, &mut func);
    let has_receiver = func.sig.receiver().is_some();
    match cx.check() {
        Ok(()) => match krate {
            Some(path) => {
                let generated = crate::crate_path::retarget(emit::generated(&method), &path);
                quote::quote!(#func #generated)
            }
            None => emit::emit(&method, &func),
        },
        // A function with `self` sits in an impl block, where a marker type cannot go.
        Err(e) if has_receiver => with_errors(func.into_token_stream(), e),
        Err(e) => with_errors(emit::emit_fallback(&method, &func), e),
    }
}

/// The span of the keyword that says what an item is (`struct`, `impl`, ...).
fn item_keyword_span(item: &syn::Item) -> proc_macro2::Span {
    use syn::spanned::Spanned;
    match item {
        syn::Item::Struct(i) => i.struct_token.span,
        syn::Item::Enum(i) => i.enum_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Trait(i) => i.trait_token.span,
        syn::Item::Mod(i) => i.mod_token.span,
        syn::Item::Const(i) => i.const_token.span,
        syn::Item::Static(i) => i.static_token.span,
        syn::Item::Type(i) => i.type_token.span,
        syn::Item::Union(i) => i.union_token.span,
        syn::Item::Use(i) => i.use_token.span,
        other => other.span(),
    }
}
