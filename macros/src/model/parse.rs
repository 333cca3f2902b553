//! Reads a `#[model]` struct or enum: rewrites each field's `#[validate(...)]` into
//! schemars attributes (in place, on the item that is emitted) and records, for the
//! `Validate` impl, which fields to check and under which path segment.

use syn::{Data, DeriveInput, Fields as SynFields, Member};

use super::check;
use super::ir::{Body, Field, Fields, Model, Segment, Style, Variant};

use crate::ctxt::Ctxt;
use crate::serde_names::{Container, Member as SerdeMember, RenameRule};
use crate::validate_attr::Constraints;

/// Parses the item, rewriting its attributes in place.
pub fn parse(cx: &Ctxt, input: &mut DeriveInput) -> Model {
    check::no_validate(cx, &mut input.attrs, "on the type");
    let container = Container::from_attrs(&input.attrs);
    let body = match &mut input.data {
        Data::Struct(s) => {
            let mut fields = parse_fields(cx, &mut s.fields, container.rename_all);
            if container.transparent {
                for f in &mut fields.fields {
                    f.segment = Segment::Inline;
                }
            }
            Body::Struct(fields)
        }
        Data::Enum(e) => Body::Enum(
            e.variants
                .iter_mut()
                .map(|v| {
                    check::no_validate(cx, &mut v.attrs, "on a variant");
                    let serde = SerdeMember::from_attrs(&v.attrs);
                    let name = serde.rename.clone().unwrap_or_else(|| {
                        let n = v.ident.to_string();
                        container.rename_all.map_or(n.clone(), |r| r.apply_to_variant(&n))
                    });
                    let segment = if container.untagged || serde.untagged {
                        Segment::Inline
                    } else {
                        match (&container.tag, &container.content) {
                            (Some(_), Some(content)) => Segment::Key(content.clone()),
                            (Some(_), None) => Segment::Inline,
                            (None, _) => Segment::Key(name),
                        }
                    };
                    let rule = serde.rename_all.or(container.rename_all_fields);
                    let fields = parse_fields(cx, &mut v.fields, rule);
                    Variant { ident: v.ident.clone(), segment, fields, skip: serde.skip }
                })
                .collect(),
        ),
        Data::Union(u) => {
            check::not_a_union(cx, u);
            Body::Struct(Fields { style: Style::Unit, fields: Vec::new() })
        }
    };
    Model { ident: input.ident.clone(), generics: input.generics.clone(), body }
}

fn parse_fields(cx: &Ctxt, fields: &mut SynFields, rule: Option<RenameRule>) -> Fields {
    let style = match fields {
        SynFields::Named(_) => Style::Named,
        SynFields::Unnamed(_) => Style::Tuple,
        SynFields::Unit => Style::Unit,
    };
    let count = fields.len();
    let out = fields
        .iter_mut()
        .enumerate()
        .map(|(i, f)| {
            let constraints = Constraints::take_from(cx, &mut f.attrs);
            f.attrs.extend(constraints.schemars_attr_list());
            let serde = SerdeMember::from_attrs(&f.attrs);
            let (member, segment) = match &f.ident {
                Some(ident) => {
                    let name = serde.rename.clone().unwrap_or_else(|| {
                        let n = syn::ext::IdentExt::unraw(ident).to_string();
                        rule.map_or(n.clone(), |r| r.apply_to_field(&n))
                    });
                    (Member::Named(ident.clone()), Segment::Key(name))
                }
                None => {
                    let seg = if count == 1 { Segment::Inline } else { Segment::Index(i) };
                    (Member::Unnamed(i.into()), seg)
                }
            };
            let segment = if serde.flatten { Segment::Inline } else { segment };
            Field { member, segment, constraints, skip: serde.skip }
        })
        .collect();
    Fields { style, fields: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn parsed(mut input: DeriveInput) -> (Model, DeriveInput) {
        let cx = Ctxt::new();
        let m = parse(&cx, &mut input);
        cx.check().unwrap();
        (m, input)
    }

    fn segments(f: &Fields) -> Vec<Segment> {
        f.fields.iter().map(|f| f.segment.clone()).collect()
    }

    #[test]
    fn validate_becomes_schemars_on_the_item() {
        let (m, item) = parsed(parse_quote! {
            struct Signup {
                #[validate(length(min = 1, max = 32))]
                name: String,
                #[serde(rename = "yearsOld")]
                #[validate(range(min = 13))]
                age: u8,
            }
        });
        let s = item.to_token_stream().to_string();
        assert!(!s.contains("validate"), "{s}");
        assert!(s.contains("# [schemars (length (min = 1 , max = 32))] name"), "{s}");
        let Body::Struct(f) = &m.body else { panic!() };
        assert_eq!(segments(f), [Segment::Key("name".into()), Segment::Key("yearsOld".into())]);
    }

    #[test]
    fn rename_all_and_tuple_and_flatten() {
        let (m, _) = parsed(parse_quote! {
            #[serde(rename_all = "camelCase")]
            struct S { user_name: String, #[serde(flatten)] extra: Extra }
        });
        let Body::Struct(f) = &m.body else { panic!() };
        assert_eq!(segments(f), [Segment::Key("userName".into()), Segment::Inline]);

        let (m, _) = parsed(parse_quote!(struct Pair(u8, u8);));
        let Body::Struct(f) = &m.body else { panic!() };
        assert_eq!(segments(f), [Segment::Index(0), Segment::Index(1)]);

        let (m, _) = parsed(parse_quote!(struct Name(String);));
        let Body::Struct(f) = &m.body else { panic!() };
        assert_eq!(segments(f), [Segment::Inline]);
    }

    #[test]
    fn enum_tagging_decides_where_variant_fields_sit() {
        let variant_segments = |input: DeriveInput| {
            let (m, _) = parsed(input);
            let Body::Enum(vs) = m.body else { panic!() };
            vs.into_iter().map(|v| v.segment).collect::<Vec<_>>()
        };
        assert_eq!(
            variant_segments(parse_quote!(#[serde(rename_all = "snake_case")] enum E { BigCircle { r: f64 } })),
            [Segment::Key("big_circle".into())]
        );
        assert_eq!(variant_segments(parse_quote!(#[serde(tag = "kind")] enum E { A { r: f64 } })), [Segment::Inline]);
        assert_eq!(
            variant_segments(parse_quote!(#[serde(tag = "t", content = "c")] enum E { A { r: f64 } })),
            [Segment::Key("c".into())]
        );
        assert_eq!(variant_segments(parse_quote!(#[serde(untagged)] enum E { A(u8) })), [Segment::Inline]);
    }

    #[test]
    fn unions_and_misplaced_validate_are_errors() {
        let cx = Ctxt::new();
        let mut u: DeriveInput = parse_quote!(union U { a: u8 });
        parse(&cx, &mut u);
        let mut e: DeriveInput = parse_quote!(enum E { #[validate(range(min = 1))] A(u8) });
        parse(&cx, &mut e);
        let msgs: Vec<String> = cx.check().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert!(msgs[0].contains("unions"), "{msgs:?}");
        assert!(msgs[1].contains("goes on fields, not on a variant"), "{msgs:?}");
    }
}
