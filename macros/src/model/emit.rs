//! Renders a [`Model`]: the derives (through `::volley::__private`), the rewritten item,
//! and its `Validate` impl.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, Ident};

use super::ir::{Body, Field, Fields, Model, Segment, Style};
use crate::validate_attr::nested_validation;

/// The derives, the item (attributes already rewritten) and the `Validate` impl.
pub fn emit(model: &Model, item: &DeriveInput) -> TokenStream {
    let validate = validate_impl(model);
    quote! {
        #[derive(
            ::volley::__private::serde::Serialize,
            ::volley::__private::serde::Deserialize,
            ::volley::__private::schemars::JsonSchema
        )]
        #[serde(crate = "::volley::__private::serde")]
        #[schemars(crate = "::volley::__private::schemars")]
        #item
        #validate
    }
}

fn validate_impl(model: &Model) -> TokenStream {
    let v = format_ident!("__volley_v");
    let ident = &model.ident;
    let (impl_generics, ty_generics, where_clause) = model.generics.split_for_impl();
    let body = match &model.body {
        Body::Struct(fields) => {
            let checks = fields.fields.iter().filter(|f| !f.skip).map(|f| {
                let member = &f.member;
                field_check(f, &quote!(&self.#member), &v)
            });
            quote!(#(#checks)*)
        }
        Body::Enum(variants) if variants.is_empty() => quote!(match *self {}),
        Body::Enum(variants) => {
            let arms = variants.iter().map(|var| {
                let vident = &var.ident;
                if var.skip {
                    return quote!(Self::#vident { .. } => {});
                }
                let (pattern, checks) = variant_arm(&var.fields, &v);
                let checks = at(&var.segment, checks, &v);
                quote!(Self::#vident #pattern => { #checks })
            });
            quote!(match self { #(#arms)* })
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::volley::__private::Validate for #ident #ty_generics #where_clause {
            fn validate(&self, #v: &mut ::volley::__private::Violations) {
                #body
            }
        }
    }
}

/// The pattern binding a variant's fields by reference, and the checks on them.
fn variant_arm(fields: &Fields, v: &Ident) -> (TokenStream, TokenStream) {
    let binding = |i: usize| format_ident!("__volley_f{}", i);
    let checks = fields
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.skip)
        .map(|(i, f)| {
            let b = binding(i);
            field_check(f, &quote!(#b), v)
        })
        .collect::<TokenStream>();
    let pattern = match fields.style {
        Style::Unit => quote!({ .. }),
        Style::Named => {
            let binds = fields.fields.iter().enumerate().map(|(i, f)| {
                let member = &f.member;
                let b = binding(i);
                quote!(#member: #b)
            });
            quote!({ #(#binds,)* })
        }
        Style::Tuple => {
            let binds = (0..fields.fields.len()).map(binding);
            quote!((#(#binds),*))
        }
    };
    (pattern, checks)
}

/// Constraint checks and nested validation of one field, under its path segment.
fn field_check(f: &Field, value: &TokenStream, v: &Ident) -> TokenStream {
    let checks = f.constraints.checks(value, v);
    let nested = nested_validation(value, v);
    at(&f.segment, quote!(#checks #nested), v)
}

fn at(segment: &Segment, inner: TokenStream, v: &Ident) -> TokenStream {
    match segment {
        Segment::Inline => quote!({ #inner }),
        Segment::Key(k) => quote!(#v.at(#k, |#v| { #inner });),
        Segment::Index(i) => {
            let s = format!("[{i}]");
            quote!(#v.at(#s, |#v| { #inner });)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctxt::Ctxt;
    use crate::model::parse;
    use syn::parse_quote;

    fn expand(mut input: DeriveInput) -> String {
        let cx = Ctxt::new();
        let m = parse::parse(&cx, &mut input);
        cx.check().unwrap();
        emit(&m, &input).to_string()
    }

    /// Compares with whitespace removed, so needles may be partial (unbalanced) code.
    fn has(haystack: &str, needle: &str) {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert!(squash(haystack).contains(&squash(needle)), "expected\n  {needle}\nin\n  {haystack}");
    }

    #[test]
    fn struct_fields_are_checked_under_their_names() {
        let s = expand(parse_quote! {
            struct Signup<T> where T: Clone {
                #[validate(length(min = 1))]
                name: String,
                #[serde(skip)]
                cache: T,
            }
        });
        has(&s, r#"#[serde(crate = "::volley::__private::serde")]"#);
        has(&s, r#"impl<T> ::volley::__private::Validate for Signup<T> where T: Clone"#);
        has(&s, r#"__volley_v.at("name", |__volley_v| { ::volley::__private::check_length(&self.name,"#);
        assert!(!s.contains("self . cache"), "skipped fields are not validated: {s}");
    }

    #[test]
    fn enums_match_every_variant() {
        let s = expand(parse_quote! {
            enum Shape { Circle { r: f64 }, Pair(u8, u8), Empty }
        });
        has(&s, r#"Self::Circle { r: __volley_f0, } => { __volley_v.at("Circle", |__volley_v| {"#);
        has(&s, r#"Self::Pair(__volley_f0, __volley_f1) => { __volley_v.at("Pair", |__volley_v| { __volley_v.at("[0]""#);
        has(&s, r#"Self::Empty { .. } => { __volley_v.at("Empty", |__volley_v| { }); }"#);
    }

    #[test]
    fn empty_enums_still_compile() {
        let s = expand(parse_quote!(enum Never {}));
        has(&s, r#"match *self {}"#);
    }
}
