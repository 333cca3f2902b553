//! The wire names serde gives fields and variants, so validation paths say `userName`
//! when the client sent `userName`. Only the simple, common attributes are read
//! (`rename`, `rename_all`, `rename_all_fields`, `tag`, `content`, `untagged`,
//! `transparent`, `flatten`, `skip`, `skip_deserializing`); anything else is serde's
//! business and left alone. Malformed serde attributes are not reported here: serde's
//! own derive reports them.

use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, LitStr};

/// A `rename_all` rule, as serde spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameRule {
    /// `lowercase`
    Lower,
    /// `UPPERCASE`
    Upper,
    /// `PascalCase`
    Pascal,
    /// `camelCase`
    Camel,
    /// `snake_case`
    Snake,
    /// `SCREAMING_SNAKE_CASE`
    ScreamingSnake,
    /// `kebab-case`
    Kebab,
    /// `SCREAMING-KEBAB-CASE`
    ScreamingKebab,
}

impl RenameRule {
    fn from_str(s: &str) -> Option<Self> {
        Some(match s {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// Renames a field written in snake_case (serde's `apply_to_field`).
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            Self::Lower | Self::Snake => field.to_owned(),
            Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
            Self::Pascal => {
                let mut out = String::new();
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            Self::Camel => {
                let pascal = Self::Pascal.apply_to_field(field);
                lower_first(&pascal)
            }
            Self::Kebab => field.replace('_', "-"),
            Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// Renames a variant written in PascalCase (serde's `apply_to_variant`).
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            Self::Pascal => variant.to_owned(),
            Self::Lower => variant.to_ascii_lowercase(),
            Self::Upper => variant.to_ascii_uppercase(),
            Self::Camel => lower_first(variant),
            Self::Snake => {
                let mut out = String::new();
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        out.push('_');
                    }
                    out.push(ch.to_ascii_lowercase());
                }
                out
            }
            Self::ScreamingSnake => Self::Snake.apply_to_variant(variant).to_ascii_uppercase(),
            Self::Kebab => Self::Snake.apply_to_variant(variant).replace('_', "-"),
            Self::ScreamingKebab => Self::ScreamingSnake.apply_to_variant(variant).replace('_', "-"),
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Serde attributes of a struct or enum that shape paths.
#[derive(Debug, Default)]
pub struct Container {
    /// `rename_all` (the deserialize side).
    pub rename_all: Option<RenameRule>,
    /// `rename_all_fields` (enums: fields of every variant).
    pub rename_all_fields: Option<RenameRule>,
    /// `tag = ".."`.
    pub tag: Option<String>,
    /// `content = ".."`.
    pub content: Option<String>,
    /// `untagged`.
    pub untagged: bool,
    /// `transparent`.
    pub transparent: bool,
}

/// Serde attributes of a field or a variant that shape paths.
#[derive(Debug, Default)]
pub struct Member {
    /// `rename = ".."` or `rename(deserialize = "..")`.
    pub rename: Option<String>,
    /// `rename_all` on a variant.
    pub rename_all: Option<RenameRule>,
    /// `flatten`: the field's own fields sit in the parent object.
    pub flatten: bool,
    /// `skip` or `skip_deserializing`: the value never comes from the client.
    pub skip: bool,
    /// `untagged` on a variant.
    pub untagged: bool,
}

impl Container {
    /// Reads the container's `#[serde(...)]` attributes.
    pub fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut c = Container::default();
        for_each_serde_meta(attrs, |meta| {
            if meta.path.is_ident("rename_all") {
                c.rename_all = rename_rule(&meta)?;
            } else if meta.path.is_ident("rename_all_fields") {
                c.rename_all_fields = rename_rule(&meta)?;
            } else if meta.path.is_ident("tag") {
                c.tag = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("content") {
                c.content = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("untagged") {
                c.untagged = true;
            } else if meta.path.is_ident("transparent") {
                c.transparent = true;
            } else {
                skip(&meta)?;
            }
            Ok(())
        });
        c
    }
}

impl Member {
    /// Reads a field's or variant's `#[serde(...)]` attributes.
    pub fn from_attrs(attrs: &[Attribute]) -> Self {
        let mut m = Member::default();
        for_each_serde_meta(attrs, |meta| {
            if meta.path.is_ident("rename") {
                if let Some(name) = deserialize_side(&meta)? {
                    m.rename = Some(name);
                }
            } else if meta.path.is_ident("rename_all") {
                m.rename_all = rename_rule(&meta)?;
            } else if meta.path.is_ident("flatten") {
                m.flatten = true;
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                m.skip = true;
            } else if meta.path.is_ident("untagged") {
                m.untagged = true;
            } else {
                skip(&meta)?;
            }
            Ok(())
        });
        m
    }
}

fn for_each_serde_meta(attrs: &[Attribute], mut f: impl FnMut(ParseNestedMeta<'_>) -> syn::Result<()>) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // Errors are serde's to report; a half-read attribute just keeps Rust names.
        let _ = attr.parse_nested_meta(&mut f);
    }
}

/// `key = ".."` or `key(serialize = "..", deserialize = "..")`: the deserialize side.
fn deserialize_side(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<String>> {
    if meta.input.peek(syn::Token![=]) {
        return Ok(Some(meta.value()?.parse::<LitStr>()?.value()));
    }
    let mut out = None;
    meta.parse_nested_meta(|inner| {
        let value = inner.value()?.parse::<LitStr>()?.value();
        if inner.path.is_ident("deserialize") {
            out = Some(value);
        }
        Ok(())
    })?;
    Ok(out)
}

fn rename_rule(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<RenameRule>> {
    Ok(deserialize_side(meta)?.and_then(|s| RenameRule::from_str(&s)))
}

fn skip(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn rules_match_serde() {
        use RenameRule::*;
        assert_eq!(Camel.apply_to_field("user_name"), "userName");
        assert_eq!(Pascal.apply_to_field("user_name"), "UserName");
        assert_eq!(ScreamingKebab.apply_to_field("user_name"), "USER-NAME");
        assert_eq!(Snake.apply_to_variant("BigCircle"), "big_circle");
        assert_eq!(Kebab.apply_to_variant("BigCircle"), "big-circle");
        assert_eq!(Camel.apply_to_variant("BigCircle"), "bigCircle");
        assert_eq!(Lower.apply_to_variant("BigCircle"), "bigcircle");
    }

    #[test]
    fn container_and_member_attributes() {
        let item: syn::ItemEnum = parse_quote! {
            #[derive(Debug)]
            #[serde(tag = "kind", rename_all(serialize = "UPPERCASE", deserialize = "snake_case"), deny_unknown_fields)]
            #[serde(bound(deserialize = "T: Default"))]
            enum E { A }
        };
        let c = Container::from_attrs(&item.attrs);
        assert_eq!(c.tag.as_deref(), Some("kind"));
        assert_eq!(c.rename_all, Some(RenameRule::Snake));

        let field: syn::Field = syn::parse::Parser::parse2(
            syn::Field::parse_named,
            quote::quote!(#[serde(default, rename(serialize = "o", deserialize = "i"), with = "x")] #[serde(flatten)] f: u8),
        )
        .unwrap();
        let m = Member::from_attrs(&field.attrs);
        assert_eq!(m.rename.as_deref(), Some("i"));
        assert!(m.flatten);
    }
}
