//! Types as TypeScript-like text, from the IR: `{ a: number; b?: string | null }`,
//! `"Empty" | { Circle: { radius: number } }`, `Tree[]`, `{ [key: string]: Outcome }`,
//! named types by name. Also each named type's definition, and the named types a type
//! leads to, each once (recursive types included), in the order they are first met.
//!
//! The text is for people, not for a compiler: integers are `integer` (their width is a
//! note beside the field, see [`notes`]), bytes `bytes`, any value `any`, and names are
//! the server's own.

use std::collections::BTreeSet;

use crate::ir::{Field, IntFormat, Literal, Payload, Service, Tagging, Type, TypeDef, Variant};

/// How tightly an expression must bind where it is written.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// Anywhere: a union may stand as it is.
    Top,
    /// A part of an intersection (`A & B`): a union needs parentheses.
    Intersection,
    /// Before `[]`: unions and intersections need parentheses.
    Item,
}

/// A type expression, such as `Tree[] | null`.
pub fn expr(t: &Type) -> String {
    expr_at(t, Place::Top)
}

fn expr_at(t: &Type, place: Place) -> String {
    let (text, binds) = match t {
        Type::Any => ("any".to_string(), Place::Item),
        Type::Null => ("null".into(), Place::Item),
        Type::Bool => ("boolean".into(), Place::Item),
        Type::Integer { .. } => ("integer".into(), Place::Item),
        Type::Number => ("number".into(), Place::Item),
        Type::String => ("string".into(), Place::Item),
        Type::Bytes => ("bytes".into(), Place::Item),
        Type::Literal(l) => (literal(l), Place::Item),
        Type::Nullable(inner) => (format!("{} | null", union_member(inner)), Place::Top),
        Type::List(item) => (format!("{}[]", expr_at(item, Place::Item)), Place::Item),
        Type::Map(value) => (format!("{{ [key: string]: {} }}", expr(value)), Place::Item),
        Type::Tuple(items) => (format!("[{}]", items.iter().map(expr).collect::<Vec<_>>().join(", ")), Place::Item),
        Type::Object(o) => {
            let mut parts: Vec<String> = o.fields.iter().map(field).collect();
            if let Some(a) = &o.additional {
                parts.push(format!("[key: string]: {}", expr(a)));
            }
            let text = if parts.is_empty() { "{}".to_string() } else { format!("{{ {} }}", parts.join("; ")) };
            (text, Place::Item)
        }
        Type::Enum(values) => {
            let text = values.iter().map(|v| quote(&v.value)).collect::<Vec<_>>().join(" | ");
            (text, if values.len() > 1 { Place::Top } else { Place::Item })
        }
        Type::Tagged(t) => {
            let text = t.variants.iter().map(|v| variant(&t.tagging, v)).collect::<Vec<_>>().join(" | ");
            let binds = match t.variants.as_slice() {
                [one] if matches!((&t.tagging, &one.payload), (Tagging::Internal { .. }, Payload::Value(_))) => Place::Intersection,
                [_] => Place::Item,
                _ => Place::Top,
            };
            (text, binds)
        }
        Type::Union(alternatives) => (
            alternatives.iter().map(union_member).collect::<Vec<_>>().join(" | "),
            if alternatives.len() > 1 { Place::Top } else { Place::Item },
        ),
        Type::AllOf(parts) => (
            parts.iter().map(|p| expr_at(p, Place::Intersection)).collect::<Vec<_>>().join(" & "),
            if parts.len() > 1 { Place::Intersection } else { Place::Item },
        ),
        Type::Ref(name) => (name.clone(), Place::Item),
    };
    if binds < place {
        format!("({text})")
    } else {
        text
    }
}

/// A member of a union: a union in it is flattened into it, an intersection is
/// parenthesised to be read at a glance.
fn union_member(t: &Type) -> String {
    match t {
        Type::AllOf(parts) if parts.len() > 1 => format!("({})", expr(t)),
        t => expr(t),
    }
}

/// A field as it stands in an object: `name: type`, or `name?: type` when the key may
/// be left out.
pub fn field(f: &Field) -> String {
    format!("{}{}: {}", key(&f.name), if f.optional { "?" } else { "" }, expr(&f.ty))
}

/// One variant of a serde enum as the value it is on the wire.
pub fn variant(tagging: &Tagging, v: &Variant) -> String {
    let name = quote(&v.name);
    let object = |fields: &[Field]| {
        if fields.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", fields.iter().map(field).collect::<Vec<_>>().join("; "))
        }
    };
    match (tagging, &v.payload) {
        (Tagging::External, Payload::Unit) => name,
        (Tagging::External, Payload::Fields(fs)) => format!("{{ {}: {} }}", key(&v.name), object(fs)),
        (Tagging::External, Payload::Value(t)) => format!("{{ {}: {} }}", key(&v.name), expr(t)),
        (Tagging::Internal { tag } | Tagging::Adjacent { tag, .. }, Payload::Unit) => format!("{{ {}: {name} }}", key(tag)),
        (Tagging::Internal { tag }, Payload::Fields(fs)) => {
            let mut parts = vec![format!("{}: {name}", key(tag))];
            parts.extend(fs.iter().map(field));
            format!("{{ {} }}", parts.join("; "))
        }
        (Tagging::Internal { tag }, Payload::Value(t)) => {
            format!("{{ {}: {name} }} & {}", key(tag), expr_at(t, Place::Intersection))
        }
        (Tagging::Adjacent { tag, content }, Payload::Fields(fs)) => {
            format!("{{ {}: {name}; {}: {} }}", key(tag), key(content), object(fs))
        }
        (Tagging::Adjacent { tag, content }, Payload::Value(t)) => {
            format!("{{ {}: {name}; {}: {} }}", key(tag), key(content), expr(t))
        }
    }
}

/// What a field's type does not show, as short phrases: the integer's width, declared
/// constraints and the default: `uint32`, `minimum 1`, `default 0`.
pub fn notes(f: &Field) -> Vec<String> {
    let mut out = vec![];
    let inner = match &f.ty {
        Type::Nullable(t) => t,
        t => t,
    };
    let mut constraints = f.constraints.clone();
    if let Type::Integer { format: IntFormat { signed, bits: Some(bits) }, .. } = inner {
        out.push(format!("{}int{bits}", if *signed { "" } else { "u" }));
        // The bounds of the width itself (schemars writes `minimum: 0` for unsigned
        // integers, both bounds for 8 and 16 bits) say nothing more.
        let (lo, hi) = if *signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        let is = |v: &Option<serde_json::Value>, bound: i128| {
            v.as_ref().and_then(|v| v.as_i64().map(i128::from).or(v.as_u64().map(i128::from))) == Some(bound)
        };
        if is(&constraints.minimum, lo) {
            constraints.minimum = None;
        }
        if *bits < 128 && is(&constraints.maximum, hi) {
            constraints.maximum = None;
        }
    }
    if let Type::Tuple(items) = inner {
        let n = Some(items.len() as u64);
        if constraints.min_items == n && constraints.max_items == n {
            (constraints.min_items, constraints.max_items) = (None, None);
        }
    }
    out.extend(constraints.phrases());
    if let Some(d) = &f.default {
        out.push(format!("default {d}"));
    }
    out
}

/// A named type's definition as lines. Objects list a field per line, enums and tagged
/// unions a variant per line; anything else is one line, `type UserId = string;`. With
/// `docs`, descriptions are `//` comments above what they describe and each field's
/// [`notes`] a comment after it.
pub fn definition(def: &TypeDef, docs: bool) -> Vec<String> {
    let mut out = vec![];
    if docs {
        comment(&mut out, "", def.description.as_deref());
    }
    let name = &def.name;
    match &def.ty {
        Type::Object(o) if !o.fields.is_empty() || o.additional.is_some() => {
            out.push(format!("type {name} = {{"));
            for f in &o.fields {
                if docs {
                    comment(&mut out, "  ", f.description.as_deref());
                }
                let notes = if docs { notes(f) } else { vec![] };
                if notes.is_empty() {
                    out.push(format!("  {};", field(f)));
                } else {
                    out.push(format!("  {}; // {}", field(f), notes.join(", ")));
                }
            }
            if let Some(a) = &o.additional {
                out.push(format!("  [key: string]: {};", expr(a)));
            }
            out.push("};".into());
        }
        Type::Tagged(t) if t.variants.len() > 1 => {
            out.push(format!("type {name} ="));
            for v in &t.variants {
                if docs {
                    comment(&mut out, "  ", v.description.as_deref());
                }
                out.push(format!("  | {}", variant(&t.tagging, v)));
            }
            close(&mut out);
        }
        Type::Enum(values) if values.len() > 1 => {
            out.push(format!("type {name} ="));
            for v in values {
                if docs {
                    comment(&mut out, "  ", v.description.as_deref());
                }
                out.push(format!("  | {}", quote(&v.value)));
            }
            close(&mut out);
        }
        t => out.push(format!("type {name} = {};", expr(t))),
    }
    out
}

fn close(out: &mut [String]) {
    if let Some(last) = out.last_mut() {
        last.push(';');
    }
}

/// `//` lines for a description, at an indent.
fn comment(out: &mut Vec<String>, indent: &str, text: Option<&str>) {
    for line in text.unwrap_or_default().lines() {
        let line = line.trim_end();
        out.push(if line.is_empty() { format!("{indent}//") } else { format!("{indent}// {line}") });
    }
}

/// The named types that `roots` lead to, directly or through other named types, each
/// once, in the order they are first met (depth first): what a reader needs below a
/// signature. A name in `skip` (the type being described itself) is not listed.
pub fn referenced<'s>(service: &'s Service, roots: &[&Type], skip: Option<&str>) -> Vec<&'s TypeDef> {
    let mut seen: BTreeSet<String> = skip.map(|s| s.to_string()).into_iter().collect();
    let mut out = vec![];
    for root in roots {
        visit(service, root, &mut seen, &mut out);
    }
    out
}

fn visit<'s>(service: &'s Service, t: &Type, seen: &mut BTreeSet<String>, out: &mut Vec<&'s TypeDef>) {
    for name in refs_in_order(t) {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = service.types.iter().find(|d| d.name == name) {
            out.push(def);
            visit(service, &def.ty, seen, out);
        }
    }
}

/// The `$defs` names a type mentions, in the order they appear in its text.
pub fn refs_in_order(t: &Type) -> Vec<String> {
    fn walk(t: &Type, out: &mut Vec<String>) {
        match t {
            Type::Ref(n) if !out.contains(n) => out.push(n.clone()),
            Type::Ref(_) => {}
            Type::Nullable(t) | Type::List(t) | Type::Map(t) => walk(t, out),
            Type::Tuple(ts) | Type::Union(ts) | Type::AllOf(ts) => ts.iter().for_each(|t| walk(t, out)),
            Type::Object(o) => {
                o.fields.iter().for_each(|f| walk(&f.ty, out));
                if let Some(a) = &o.additional {
                    walk(a, out);
                }
            }
            Type::Tagged(t) => t.variants.iter().for_each(|v| match &v.payload {
                Payload::Unit => {}
                Payload::Fields(fs) => fs.iter().for_each(|f| walk(&f.ty, out)),
                Payload::Value(t) => walk(t, out),
            }),
            _ => {}
        }
    }
    let mut out = vec![];
    walk(t, &mut out);
    out
}

/// An object key: bare when it is an identifier, else quoted.
fn key(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if identifier {
        name.to_string()
    } else {
        quote(name)
    }
}

/// A string as a double-quoted literal (JSON's escapes).
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::String(s) => quote(s),
        Literal::Number(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Constraints, EnumValue, Object, Tagged};

    fn f(name: &str, ty: Type, optional: bool) -> Field {
        Field { name: name.into(), description: None, ty, optional, default: None, constraints: Constraints::default() }
    }

    fn int(bits: u32) -> Type {
        Type::Integer { format: IntFormat { signed: false, bits: Some(bits) }, range: None }
    }

    #[test]
    fn objects_optional_and_nullable_fields() {
        let o = Type::Object(Object {
            fields: vec![f("a", Type::Number, false), f("b", Type::Nullable(Box::new(Type::String)), true), f("two words", Type::Bool, false)],
            additional: None,
        });
        assert_eq!(expr(&o), r#"{ a: number; b?: string | null; "two words": boolean }"#);
        assert_eq!(expr(&Type::Object(Object { fields: vec![], additional: None })), "{}");
    }

    #[test]
    fn unions_are_parenthesised_where_they_would_bind_loosely() {
        let union = Type::Union(vec![Type::String, Type::Number]);
        assert_eq!(expr(&Type::List(Box::new(union.clone()))), "(string | number)[]");
        assert_eq!(expr(&Type::List(Box::new(Type::Nullable(Box::new(Type::Ref("T".into())))))), "(T | null)[]");
        assert_eq!(expr(&Type::AllOf(vec![Type::Ref("A".into()), union])), "A & (string | number)");
        assert_eq!(expr(&Type::Map(Box::new(int(32)))), "{ [key: string]: integer }");
        assert_eq!(expr(&Type::Tuple(vec![Type::Number, Type::Bytes])), "[number, bytes]");
        let e = Type::Enum(vec![EnumValue { value: "a".into(), description: None }, EnumValue { value: "b".into(), description: None }]);
        assert_eq!(expr(&Type::Nullable(Box::new(e))), r#""a" | "b" | null"#);
    }

    #[test]
    fn taggings() {
        let v = |name: &str, payload| Variant { name: name.into(), description: None, payload };
        let variants = vec![v("Empty", Payload::Unit), v("At", Payload::Value(Type::Ref("Point".into()))), v("C", Payload::Fields(vec![f("r", Type::Number, false)]))];
        let t = |tagging| expr(&Type::Tagged(Tagged { tagging, variants: variants.clone() }));
        assert_eq!(t(Tagging::External), r#""Empty" | { At: Point } | { C: { r: number } }"#);
        assert_eq!(t(Tagging::Internal { tag: "kind".into() }), r#"{ kind: "Empty" } | { kind: "At" } & Point | { kind: "C"; r: number }"#);
        assert_eq!(
            t(Tagging::Adjacent { tag: "t".into(), content: "c".into() }),
            r#"{ t: "Empty" } | { t: "At"; c: Point } | { t: "C"; c: { r: number } }"#
        );
    }

    #[test]
    fn notes_name_width_constraints_and_default() {
        let mut field = f("n", Type::Nullable(Box::new(int(32))), true);
        field.default = Some(serde_json::json!(0));
        field.constraints.minimum = Some(serde_json::json!(1));
        assert_eq!(notes(&field), ["uint32", "minimum 1", "default 0"]);
        // Bounds that only repeat the width are left out.
        let mut small = f("s", Type::Integer { format: IntFormat { signed: true, bits: Some(8) }, range: None }, false);
        small.constraints.minimum = Some(serde_json::json!(-128));
        small.constraints.maximum = Some(serde_json::json!(100));
        assert_eq!(notes(&small), ["int8", "maximum 100"]);
        let mut pair = f("p", Type::Tuple(vec![Type::Number, Type::Number]), false);
        (pair.constraints.min_items, pair.constraints.max_items) = (Some(2), Some(2));
        assert!(notes(&pair).is_empty());
    }
}
