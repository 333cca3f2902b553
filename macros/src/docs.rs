//! Doc comments and `#[deprecated]`, read from attributes.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

use crate::ctxt::Ctxt;

/// The doc comment of an item: each `///` line becomes one `#[doc = "..."]`.
#[derive(Debug, Clone, Default)]
pub struct Docs {
    parts: Vec<DocPart>,
}

#[derive(Debug, Clone)]
enum DocPart {
    Line(String),
    /// `#[doc = include_str!("..")]` and other non-literal values, kept as expressions.
    Expr(Expr),
}

impl Docs {
    /// Collects the `#[doc]` attributes of an item.
    pub fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut parts = Vec::new();
        for attr in attrs {
            if !attr.path().is_ident("doc") {
                continue;
            }
            if let Meta::NameValue(nv) = &attr.meta {
                match &nv.value {
                    Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => parts.push(DocPart::Line(s.value())),
                    other => parts.push(DocPart::Expr(other.clone())),
                }
            }
        }
        Docs { parts }
    }

    /// The text when every line is a literal: one leading space per line removed
    /// (`/// text` gives `" text"`), outer blank lines dropped.
    pub fn text(&self) -> Option<String> {
        let mut lines = Vec::new();
        for part in &self.parts {
            match part {
                DocPart::Line(s) => lines.extend(s.split('\n').map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())),
                DocPart::Expr(_) => return None,
            }
        }
        Some(lines.join("\n").trim_matches('\n').to_owned())
    }

    /// An expression of type `&'static str` holding the docs.
    pub fn to_expr(&self) -> TokenStream {
        if let Some(text) = self.text() {
            return quote!(#text);
        }
        let mut pieces = Vec::new();
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                pieces.push(quote!("\n"));
            }
            pieces.push(match part {
                DocPart::Line(s) => {
                    let s = s.strip_prefix(' ').unwrap_or(s);
                    quote!(#s)
                }
                DocPart::Expr(e) => quote!(#e),
            });
        }
        quote!(::core::concat!(#(#pieces),*))
    }
}

/// The note of `#[deprecated]`, `#[deprecated = ".."]` or `#[deprecated(note = "..")]`:
/// `None` when the item is not deprecated, `Some("")` when it is without a note.
pub fn deprecation(cx: &Ctxt, attrs: &[Attribute]) -> Option<String> {
    let attr = attrs.iter().find(|a| a.path().is_ident("deprecated"))?;
    match &attr.meta {
        Meta::Path(_) => Some(String::new()),
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
            _ => Some(String::new()),
        },
        Meta::List(_) => {
            let mut note = String::new();
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("note") {
                    note = meta.value()?.parse::<syn::LitStr>()?.value();
                } else {
                    // `since` and anything rustc adds later: not ours to check.
                    let _ = meta.value()?.parse::<Expr>()?;
                }
                Ok(())
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
            Some(note)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn doc_lines_lose_one_leading_space() {
        let item: syn::ItemFn = parse_quote! {
            /// Adds two numbers.
            ///
            ///   Indented stays indented.
            fn f() {}
        };
        let docs = Docs::from_attrs(&item.attrs);
        assert_eq!(docs.text().unwrap(), "Adds two numbers.\n\n  Indented stays indented.");
    }

    #[test]
    fn non_literal_docs_become_concat() {
        let item: syn::ItemFn = parse_quote! {
            /// Intro.
            #[doc = include_str!("x.md")]
            fn f() {}
        };
        let docs = Docs::from_attrs(&item.attrs);
        assert!(docs.text().is_none());
        let s = docs.to_expr().to_string();
        assert!(s.contains("concat !"), "{s}");
        assert!(s.contains("include_str !"), "{s}");
    }

    #[test]
    fn deprecation_notes() {
        let cx = Ctxt::new();
        let a: syn::ItemFn = parse_quote!(#[deprecated] fn f() {});
        let b: syn::ItemFn = parse_quote!(#[deprecated = "use g"] fn f() {});
        let c: syn::ItemFn = parse_quote!(#[deprecated(since = "0.2", note = "use h")] fn f() {});
        let d: syn::ItemFn = parse_quote!(fn f() {});
        assert_eq!(deprecation(&cx, &a.attrs).as_deref(), Some(""));
        assert_eq!(deprecation(&cx, &b.attrs).as_deref(), Some("use g"));
        assert_eq!(deprecation(&cx, &c.attrs).as_deref(), Some("use h"));
        assert_eq!(deprecation(&cx, &d.attrs), None);
        cx.check().unwrap();
    }
}
