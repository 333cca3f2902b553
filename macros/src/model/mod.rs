//! `#[model]`: parse the type ([`parse`]), then render derives and `Validate`
//! ([`emit`]).

pub mod emit;
pub mod parse;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::ctxt::Ctxt;
use crate::rpc::with_errors;

/// Expands `#[model(args)] item`.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let args_error = (!args.is_empty())
        .then(|| syn::Error::new_spanned(&args, "`#[model]` takes no arguments; put serde and schemars options in `#[serde(..)]` / `#[schemars(..)]`"));
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
        Ok(()) => emit::emit(&model, &input),
        // The item without its `#[validate]`s, so rustc adds no errors of its own.
        Err(e) => with_errors(input.into_token_stream(), e),
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
