//! `#[rpc(crate = "...")]`: the generated code written against another path to the
//! volley crate, for a dependency renamed in Cargo.toml (serde's `#[serde(crate)]`).
//!
//! Emitters write `::volley` everywhere; [`retarget`] swaps each leading `::volley`
//! path (and the same prefix in string attributes such as
//! `#[serde(crate = "::volley::__private::serde")]`) for the chosen path, so no emitter
//! has to thread it through.

use proc_macro2::{Group, Literal, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// `tokens` with every `::volley` path rooted at `path` instead.
pub fn retarget(tokens: TokenStream, path: &syn::Path) -> TokenStream {
    let replacement = path.to_token_stream();
    let text = replacement.to_string().replace(' ', "");
    rewrite(tokens, &replacement, &text)
}

fn rewrite(tokens: TokenStream, replacement: &TokenStream, text: &str) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < trees.len() {
        // `::volley` not preceded by a path segment: two joint-then-alone colons, then the ident.
        let starts_path = i == 0 || !is_path_piece(&trees[i - 1]);
        if starts_path && i + 2 < trees.len() && is_colon(&trees[i], Spacing::Joint) && is_colon(&trees[i + 1], Spacing::Alone) {
            if let TokenTree::Ident(id) = &trees[i + 2] {
                if id == "volley" {
                    out.extend(replacement.clone());
                    i += 3;
                    continue;
                }
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), rewrite(g.stream(), replacement, text));
                inner.set_span(g.span());
                out.extend([TokenTree::Group(inner)]);
            }
            TokenTree::Literal(l) => out.extend([TokenTree::Literal(rewrite_literal(l, text))]),
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    out
}

/// Whether a token can end a path segment before `::` (`a::volley` is not ours; after
/// a keyword such as `impl` or `as`, `::volley` starts a path).
fn is_path_piece(t: &TokenTree) -> bool {
    const KEYWORDS: &[&str] = &["impl", "for", "as", "dyn", "where", "in", "return", "let", "mut", "ref", "move", "type", "use", "pub", "const", "static", "struct", "enum", "fn", "match", "if", "else", "break", "await"];
    match t {
        TokenTree::Ident(id) => !KEYWORDS.iter().any(|k| id == k),
        _ => false,
    }
}

fn is_colon(t: &TokenTree, spacing: Spacing) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == spacing)
}

/// `"::volley::__private::serde"` → `"<path>::__private::serde"`.
fn rewrite_literal(l: &Literal, text: &str) -> Literal {
    let s = l.to_string();
    match s.strip_prefix("\"::volley::") {
        Some(rest) => {
            let mut out = Literal::string(&format!("{text}::{}", rest.trim_end_matches('"')));
            out.set_span(l.span());
            out
        }
        None => l.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn leading_volley_paths_move() {
        let path: syn::Path = syn::parse_quote!(::my_volley);
        let tokens = quote! {
            impl ::volley::Method for add { fn f() -> ::volley::__private::MethodDef { x::volley::y() } }
            #[serde(crate = "::volley::__private::serde")]
            struct P { v: Vec<::volley::Streaming<u8>> }
        };
        let out = retarget(tokens, &path).to_string();
        assert_eq!(out.matches(":: volley ::").count(), 1, "only x::volley is left: {out}");
        assert!(out.contains("impl :: my_volley :: Method"), "{out}");
        assert!(out.contains(":: my_volley :: __private :: MethodDef"), "{out}");
        assert!(out.contains("x :: volley :: y"), "a path that does not start with volley is kept: {out}");
        assert!(out.contains("\"::my_volley::__private::serde\""), "{out}");
        assert!(out.contains("Vec < :: my_volley :: Streaming"), "{out}");
    }
}
