//! `#[model]`: parse the type ([`parse`]) into a [`ir::Model`], refusing what serde cannot
//! carry ([`check`]), then render derives and `Validate` ([`emit`]).

pub mod check;
pub mod emit;
pub mod ir;
pub mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ctxt::Ctxt;
use crate::ctxt::with_errors;

/// Expands `#[model(args)] item`.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let (krate, args_error) = crate_arg(args);
    let mut input = match syn::parse2::<syn::DeriveInput>(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let span = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(i) => first_token_span(&i),
                Err(e) => return with_errors(item, e),
            };
            return with_errors(item, syn::Error::new(span, "`#[model]` goes on a struct or an enum"));
        }
    };
    let cx = Ctxt::new();
    if let Some(e) = args_error {
        cx.syn_error(e);
    }
    let model = parse::parse(&cx, &mut input);
    match cx.check() {
        Ok(()) => match krate {
            Some(path) => crate::crate_path::retarget(emit::emit(&model, &input), &path),
            None => emit::emit(&model, &input),
        },
        // The item without its `#[validate]`s, so rustc adds no errors of its own.
        Err(e) => with_errors(input.into_token_stream(), e),
    }
}

/// `#[model]` takes one argument, `crate = "::path"` for a renamed volley dependency.
fn crate_arg(args: TokenStream) -> (Option<syn::Path>, Option<syn::Error>) {
    if args.is_empty() {
        return (None, None);
    }
    let refused = || {
        syn::Error::new_spanned(
            &args,
            "`#[model]` takes only `crate = \"::path\"`; put serde and schemars options in `#[serde(..)]` / `#[schemars(..)]`",
        )
    };
    match syn::parse2::<syn::MetaNameValue>(args.clone()) {
        Ok(nv) if nv.path.is_ident("crate") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => match s.parse::<syn::Path>() {
                Ok(path) => (Some(path), None),
                Err(_) => (None, Some(syn::Error::new_spanned(s, "expected a path to the volley crate: `crate = \"::my_volley\"`"))),
            },
            _ => (None, Some(refused())),
        },
        _ => (None, Some(refused())),
    }
}

fn first_token_span(item: &syn::Item) -> proc_macro2::Span {
    use syn::spanned::Spanned;
    match item {
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Mod(m) => m.mod_token.span,
        syn::Item::Type(t) => t.type_token.span,
        other => other.span(),
    }
}
