//! `#[validate(...)]` on fields and parameters: parsed into [`Constraints`], emitted as
//! runtime checks and as the schemars attributes that put the same limits in the schema.
//!
//! Accepted forms, combinable in one attribute or spread over several:
//!
//! ```text
//! #[validate(range(min = 1, max = 10))]      numbers; either bound may be left out
//! #[validate(length(min = 1, max = 32))]     characters of a string, items of a collection
//! #[validate(pattern = "^[a-z]+$")]          strings; checked with the regex crate
//! ```

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, UnOp};

use crate::ctxt::Ctxt;

/// Every constraint declared on one field.
#[derive(Debug, Default)]
pub struct Constraints {
    /// `range(min = .., max = ..)`.
    pub range: Option<Bounds>,
    /// `length(min = .., max = ..)`.
    pub length: Option<Bounds>,
    /// `pattern = ".."`.
    pub pattern: Option<Pattern>,
}

/// The bounds of a `range` or `length` constraint.
#[derive(Debug)]
pub struct Bounds {
    /// The `range` / `length` keyword, where type errors about the field are reported.
    pub keyword: Ident,
    /// Lower bound, inclusive.
    pub min: Option<Bound>,
    /// Upper bound, inclusive.
    pub max: Option<Bound>,
}

/// One bound: a number literal (value known now) or a path to a constant.
#[derive(Debug)]
pub struct Bound {
    /// The expression as written.
    pub expr: Expr,
    /// Its value, when it is a literal.
    pub value: Option<f64>,
}

/// A `pattern = ".."` constraint whose regex compiled.
#[derive(Debug)]
pub struct Pattern {
    /// The `pattern` keyword.
    pub keyword: Ident,
    /// The pattern string.
    pub lit: LitStr,
}

/// Which bound kind is being parsed: ranges take any number, lengths only `usize`.
#[derive(Clone, Copy, PartialEq)]
enum BoundKind {
    Range,
    Length,
}

impl Constraints {
    /// True when nothing was declared.
    pub fn is_empty(&self) -> bool {
        self.range.is_none() && self.length.is_none() && self.pattern.is_none()
    }

    /// Parses and removes every `#[validate(...)]` in `attrs`, recording mistakes in `cx`.
    pub fn take_from(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> Self {
        let mut out = Constraints::default();
        attrs.retain(|attr| {
            if !attr.path().is_ident("validate") {
                return true;
            }
            if let Err(e) = attr.parse_nested_meta(|meta| out.parse_one(cx, meta)) {
                cx.syn_error(e);
            }
            false
        });
        out
    }

    fn parse_one(&mut self, cx: &Ctxt, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(keyword) = meta.path.get_ident().cloned() else {
            cx.error_spanned_by(&meta.path, UNKNOWN_CONSTRAINT_HINT);
            return skip_value(&meta);
        };
        match keyword.to_string().as_str() {
            "range" | "length" => {
                let kind = if keyword == "range" { BoundKind::Range } else { BoundKind::Length };
                let bounds = parse_bounds(cx, &meta, keyword.clone(), kind)?;
                let slot = if kind == BoundKind::Range { &mut self.range } else { &mut self.length };
                if slot.is_some() {
                    cx.error_spanned_by(&keyword, format!("duplicate constraint `{keyword}`; merge the bounds into one"));
                } else {
                    *slot = bounds;
                }
            }
            "pattern" => {
                if !meta.input.peek(syn::Token![=]) {
                    cx.error_spanned_by(&keyword, "expected `pattern = \"...\"`");
                    return skip_value(&meta);
                }
                let lit: LitStr = meta.value()?.parse()?;
                if let Err(e) = regex::Regex::new(&lit.value()) {
                    cx.error_spanned_by(&lit, format!("invalid regex in `pattern`: {}", one_line(&e.to_string())));
                } else if self.pattern.is_some() {
                    cx.error_spanned_by(&keyword, "duplicate constraint `pattern`; a field takes one pattern");
                } else {
                    self.pattern = Some(Pattern { keyword, lit });
                }
            }
            other => {
                let hint = match other {
                    "regex" => "; write `pattern = \"...\"`",
                    "min" | "max" => "; bounds go inside `range(..)` or `length(..)`",
                    _ => "",
                };
                cx.error_spanned_by(&keyword, format!("unknown constraint `{other}`; expected `range`, `length` or `pattern`{hint}"));
                skip_value(&meta)?;
            }
        }
        Ok(())
    }

    /// Statements checking the value behind `value` (an expression of type `&T`) against
    /// the constraints, recording failures in `v` (a `&mut Violations`).
    pub fn checks(&self, value: &TokenStream, v: &Ident) -> TokenStream {
        let mut out = TokenStream::new();
        if let Some(b) = &self.range {
            let min = bound_expr(b.min.as_ref(), BoundKind::Range);
            let max = bound_expr(b.max.as_ref(), BoundKind::Range);
            out.extend(quote_spanned! {b.keyword.span()=>
                ::volley::__private::check_range(#value, #min, #max, #v);
            });
        }
        if let Some(b) = &self.length {
            let min = bound_expr(b.min.as_ref(), BoundKind::Length);
            let max = bound_expr(b.max.as_ref(), BoundKind::Length);
            out.extend(quote_spanned! {b.keyword.span()=>
                ::volley::__private::check_length(#value, #min, #max, #v);
            });
        }
        if let Some(p) = &self.pattern {
            let lit = &p.lit;
            out.extend(quote_spanned! {p.keyword.span()=>
                {
                    static __VOLLEY_PATTERN: ::std::sync::LazyLock<::volley::__private::regex::Regex> =
                        ::std::sync::LazyLock::new(|| {
                            ::volley::__private::regex::Regex::new(#lit).expect("the pattern was checked when the macro expanded")
                        });
                    ::volley::__private::check_pattern(#value, &__VOLLEY_PATTERN, #lit, #v);
                }
            });
        }
        out
    }

    /// [`Constraints::schemars_attrs`] as attributes, to add to a field.
    pub fn schemars_attr_list(&self) -> Vec<Attribute> {
        syn::parse::Parser::parse2(Attribute::parse_outer, self.schemars_attrs()).expect("schemars attributes are well-formed")
    }

    /// `#[schemars(...)]` attributes carrying the constraints into the JSON Schema
    /// (`minimum`/`maximum`, `minLength`/`maxLength`/`minItems`/`maxItems`, `pattern`).
    pub fn schemars_attrs(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (b, kw) in [(&self.range, "range"), (&self.length, "length")] {
            let Some(b) = b else { continue };
            let kw = Ident::new(kw, b.keyword.span());
            let mut items = Vec::new();
            if let Some(min) = &b.min {
                let e = &min.expr;
                items.push(quote!(min = #e));
            }
            if let Some(max) = &b.max {
                let e = &max.expr;
                items.push(quote!(max = #e));
            }
            out.extend(quote!(#[schemars(#kw(#(#items),*))]));
        }
        if let Some(p) = &self.pattern {
            let lit = &p.lit;
            out.extend(quote!(#[schemars(regex(pattern = #lit))]));
        }
        out
    }
}

const UNKNOWN_CONSTRAINT_HINT: &str = "unknown constraint; expected `range(min = .., max = ..)`, `length(min = .., max = ..)` or `pattern = \"...\"`";

/// Regex errors are multi-line drawings; keep the last line, which says what is wrong.
fn one_line(msg: &str) -> String {
    msg.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(msg).trim().to_owned()
}

/// Consumes whatever follows an unknown key (`= expr` or `(...)`) so parsing goes on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
        // The group's tokens are dropped with it.
        let _ = _content.parse::<TokenStream>()?;
    }
    Ok(())
}

fn parse_bounds(cx: &Ctxt, meta: &ParseNestedMeta<'_>, keyword: Ident, kind: BoundKind) -> syn::Result<Option<Bounds>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(&keyword, format!("expected `{keyword}(min = .., max = ..)`"));
        skip_value(meta)?;
        return Ok(None);
    }
    let mut bounds = Bounds { keyword: keyword.clone(), min: None, max: None };
    let content;
    syn::parenthesized!(content in meta.input);
    let content: TokenStream = content.parse()?;
    let parse_inner = syn::meta::parser(|inner| {
        let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
        let slot = match key.as_str() {
            "min" => &mut bounds.min,
            "max" => &mut bounds.max,
            _ => {
                let path = &inner.path;
                let shown = if key.is_empty() { quote!(#path).to_string().replace(' ', "") } else { key.clone() };
                let hint = if key == "equal" { "; write `min = n, max = n`" } else { "" };
                cx.error_spanned_by(&inner.path, format!("unknown key `{shown}` in `{keyword}`; expected `min` or `max`{hint}"));
                return skip_value(&inner);
            }
        };
        let expr: Expr = inner.value()?.parse()?;
        let bound = check_bound(cx, expr, kind);
        if slot.is_some() {
            cx.error_spanned_by(&inner.path, format!("duplicate key `{key}` in `{keyword}`"));
        } else {
            *slot = bound;
        }
        Ok(())
    });
    if !content.is_empty() {
        syn::parse::Parser::parse2(parse_inner, content)?;
    } else {
        drop(parse_inner);
    }
    match (&bounds.min, &bounds.max) {
        (None, None) => {
            cx.error_spanned_by(&keyword, format!("`{keyword}` needs `min`, `max` or both"));
            return Ok(None);
        }
        (Some(Bound { value: Some(lo), expr }), Some(Bound { value: Some(hi), .. })) if lo > hi => {
            cx.error_spanned_by(expr, format!("`min` ({lo}) is greater than `max` ({hi}); no value could pass"));
        }
        _ => {}
    }
    Ok(Some(bounds))
}

/// Accepts number literals (negative ones for ranges) and paths to constants.
fn check_bound(cx: &Ctxt, expr: Expr, kind: BoundKind) -> Option<Bound> {
    let value = match &expr {
        Expr::Lit(ExprLit { lit, .. }) => literal_value(lit, kind),
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr: inner, .. }) if kind == BoundKind::Range => match &**inner {
            Expr::Lit(ExprLit { lit, .. }) => literal_value(lit, kind).map(|r| r.map(|x| -x)),
            _ => Err("expected a number"),
        },
        Expr::Path(p) if p.qself.is_none() => return Some(Bound { expr, value: None }),
        _ => Err("expected a number"),
    };
    match value {
        Ok(value) => Some(Bound { expr, value }),
        Err(msg) => {
            let what = if kind == BoundKind::Length { "a length: a non-negative integer" } else { "a bound: a number" };
            cx.error_spanned_by(&expr, format!("{msg}; `min` and `max` take {what} or the path of a constant"));
            None
        }
    }
}

fn literal_value(lit: &Lit, kind: BoundKind) -> Result<Option<f64>, &'static str> {
    match (lit, kind) {
        (Lit::Int(i), BoundKind::Length) => i.base10_parse::<usize>().map(|n| Some(n as f64)).map_err(|_| "expected a length"),
        (Lit::Int(i), BoundKind::Range) => i.base10_parse::<f64>().map(Some).map_err(|_| "expected a number"),
        (Lit::Float(f), BoundKind::Range) => f.base10_parse::<f64>().map(Some).map_err(|_| "expected a number"),
        (Lit::Float(_), BoundKind::Length) => Err("expected a whole number"),
        _ => Err("expected a number"),
    }
}

/// `Some(bound)` / `None` as the runtime's `Option<f64>` or `Option<usize>`.
fn bound_expr(bound: Option<&Bound>, kind: BoundKind) -> TokenStream {
    let Some(b) = bound else {
        return quote!(::core::option::Option::None);
    };
    let span = b.expr.span();
    match (kind, b.value) {
        (BoundKind::Range, Some(x)) => {
            let lit = proc_macro2::Literal::f64_suffixed(x);
            quote_spanned!(span=> ::core::option::Option::Some(#lit))
        }
        (BoundKind::Range, None) => {
            let e = &b.expr;
            quote_spanned!(span=> ::core::option::Option::Some((#e) as f64))
        }
        (BoundKind::Length, Some(x)) => {
            let lit = proc_macro2::Literal::usize_suffixed(x as usize);
            quote_spanned!(span=> ::core::option::Option::Some(#lit))
        }
        (BoundKind::Length, None) => {
            let e = &b.expr;
            quote_spanned!(span=> ::core::option::Option::Some(#e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    fn parse(field: syn::Field) -> (Constraints, Vec<Attribute>, Result<(), syn::Error>) {
        let cx = Ctxt::new();
        let mut attrs = field.attrs;
        let c = Constraints::take_from(&cx, &mut attrs);
        (c, attrs, cx.check())
    }

    fn field(tokens: TokenStream) -> syn::Field {
        syn::parse::Parser::parse2(syn::Field::parse_named, tokens).unwrap()
    }

    #[test]
    fn all_three_constraints_parse_and_attributes_are_removed() {
        let (c, attrs, res) = parse(field(quote! {
            #[validate(range(min = -1.5, max = 10), length(max = 3))]
            #[validate(pattern = "^a+$")]
            #[serde(rename = "x")]
            f: String
        }));
        res.unwrap();
        assert_eq!(attrs.len(), 1, "serde attribute stays");
        let r = c.range.unwrap();
        assert_eq!(r.min.unwrap().value, Some(-1.5));
        assert_eq!(r.max.unwrap().value, Some(10.0));
        assert_eq!(c.length.unwrap().max.unwrap().value, Some(3.0));
        assert_eq!(c.pattern.unwrap().lit.value(), "^a+$");
    }

    #[test]
    fn constant_paths_are_bounds() {
        let (c, _, res) = parse(field(quote!(#[validate(length(max = MAX_NAME))] f: String)));
        res.unwrap();
        assert!(c.length.unwrap().max.unwrap().value.is_none());
    }

    fn error_of(tokens: TokenStream) -> String {
        let (_, _, res) = parse(field(tokens));
        res.unwrap_err().into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" | ")
    }

    #[test]
    fn mistakes_are_reported_together() {
        let e = error_of(quote!(#[validate(email, range(mn = 1), length(min = -1), pattern = "(")] f: String));
        assert!(e.contains("unknown constraint `email`"), "{e}");
        assert!(e.contains("unknown key `mn` in `range`; expected `min` or `max`"), "{e}");
        assert!(e.contains("`min` and `max` take a length"), "{e}");
        assert!(e.contains("invalid regex in `pattern`"), "{e}");
    }

    #[test]
    fn duplicates_and_empty_and_inverted_bounds() {
        assert!(error_of(quote!(#[validate(range(min = 1))] #[validate(range(max = 2))] f: u8)).contains("duplicate constraint `range`"));
        assert!(error_of(quote!(#[validate(range(min = 1, min = 2))] f: u8)).contains("duplicate key `min`"));
        assert!(error_of(quote!(#[validate(length())] f: String)).contains("needs `min`, `max` or both"));
        assert!(error_of(quote!(#[validate(range(min = 5, max = 1))] f: u8)).contains("greater than `max`"));
        assert!(error_of(quote!(#[validate(pattern("x"))] f: String)).contains("expected `pattern = \"...\"`"));
    }

    #[test]
    fn schemars_attributes_mirror_the_constraints() {
        let (c, _, res) = parse(field(quote! {
            #[validate(range(min = 1), length(min = 2, max = 3), pattern = "^x$")] f: String
        }));
        res.unwrap();
        let s = c.schemars_attrs().to_string();
        assert_eq!(
            s,
            quote! {
                #[schemars(range(min = 1))]
                #[schemars(length(min = 2, max = 3))]
                #[schemars(regex(pattern = "^x$"))]
            }
            .to_string()
        );
    }

    #[test]
    fn literal_bounds_are_emitted_as_typed_literals() {
        let (c, _, res) = parse(field(quote!(#[validate(range(min = 1), length(max = 4))] f: String)));
        res.unwrap();
        let v = Ident::new("v", Span::call_site());
        let s = c.checks(&quote!(&self.f), &v).to_string();
        assert!(s.contains("check_range (& self . f , :: core :: option :: Option :: Some (1f64)"), "{s}");
        assert!(s.contains("Some (4usize)"), "{s}");
    }
}

/// Validation of whatever the value's type declares, if it implements `Validate`
/// (autoref specialization: other types are skipped).
pub fn nested_validation(value: &TokenStream, v: &Ident) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use ::volley::__private::{ValidateViaTrait as _, ValidateFallback as _};
            (&&::volley::__private::Wrap(#value)).__volley_validate(#v);
        }
    }
}
