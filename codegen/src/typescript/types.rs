//! TypeScript type expressions and declarations for the IR's types: interfaces, unions,
//! tagged unions, maps, tuples, with the runtime types they use recorded.

use std::collections::BTreeSet;

use crate::ir::{self, Field, Literal, Payload, Tagging, Type};
use crate::names::doc_text;

use super::docs::doc_lines;
use super::model::{TsField, TsVariant, TypeBody, TypeDecl};
use super::names::{property_key, string_literal, Names};

/// What type expressions are worked out with: the names in use and the runtime types
/// they need.
pub(super) struct Cx {
    pub(super) names: Names,
    /// Runtime type names the expressions rendered so far use.
    pub(super) used: BTreeSet<&'static str>,
}

impl Cx {
    pub(super) fn declare(&mut self, def: &ir::TypeDef) -> TypeDecl {
        let name = self.names.defs[&def.name].clone();
        let mut docs = doc_text(&def.description);
        if name != def.name {
            docs.push(format!("`{}` on the server.", def.name));
        }
        let body = match &def.ty {
            Type::Object(o) => TypeBody::Interface {
                fields: o.fields.iter().map(|f| self.field(f)).collect(),
                index: o.additional.as_ref().map(|a| self.index_type(&o.fields, a)),
            },
            Type::Tagged(t) => TypeBody::Union {
                variants: t
                    .variants
                    .iter()
                    .map(|v| TsVariant { docs: doc_lines(&doc_text(&v.description)), expr: self.variant(&t.tagging, v) })
                    .collect(),
            },
            Type::Enum(values) if values.iter().any(|v| v.description.is_some()) => TypeBody::Union {
                variants: values
                    .iter()
                    .map(|v| TsVariant { docs: doc_lines(&doc_text(&v.description)), expr: string_literal(&v.value) })
                    .collect(),
            },
            t => TypeBody::Alias { expr: self.expr(t) },
        };
        TypeDecl { name, docs: doc_lines(&docs), body }
    }

    pub(super) fn field(&mut self, f: &Field) -> TsField {
        let mut docs = doc_text(&f.description);
        let phrases = f.constraints.phrases();
        if !phrases.is_empty() {
            docs.push(format!("Constraints: {}.", phrases.join(", ")));
        }
        if let Some(d) = &f.default {
            docs.push(format!("Default: `{d}`."));
        }
        TsField { docs: doc_lines(&docs), key: property_key(&f.name), optional: f.optional, ty: self.expr(&f.ty) }
    }

    /// The value type of an index signature: every field's type must fit it too.
    fn index_type(&mut self, fields: &[Field], additional: &Type) -> String {
        let mut alternatives = vec![self.expr(additional)];
        for f in fields {
            alternatives.push(self.expr(&f.ty));
            if f.optional {
                alternatives.push("undefined".into());
            }
        }
        let mut seen = BTreeSet::new();
        alternatives.retain(|a| seen.insert(a.clone()));
        if alternatives.iter().any(|a| a == "unknown") {
            return "unknown".into();
        }
        alternatives.join(" | ")
    }

    /// A type expression.
    pub(super) fn expr(&mut self, t: &Type) -> String {
        match t {
            Type::Any => "unknown".into(),
            Type::Null => "null".into(),
            Type::Bool => "boolean".into(),
            Type::Integer { format, range } => {
                let safe = 9_007_199_254_740_991i128;
                let in_range = range.is_some_and(|(lo, hi)| lo >= -safe && hi <= safe);
                if format.fits_in_double() || in_range {
                    "number".into()
                } else {
                    self.used.insert("WideInt");
                    "WideInt".into()
                }
            }
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::Bytes => {
                self.used.insert("Bytes");
                "Bytes".into()
            }
            Type::Literal(l) => literal(l),
            Type::Nullable(inner) => format!("{} | null", self.expr(inner)),
            Type::List(item) => {
                let item_expr = self.expr(item);
                if is_simple(item) { format!("{item_expr}[]") } else { format!("Array<{item_expr}>") }
            }
            Type::Map(value) => format!("Record<string, {}>", self.expr(value)),
            Type::Tuple(items) => format!("[{}]", items.iter().map(|i| self.expr(i)).collect::<Vec<_>>().join(", ")),
            Type::Object(o) => {
                let mut parts: Vec<String> = o
                    .fields
                    .iter()
                    .map(|f| format!("{}{}: {}", property_key(&f.name), if f.optional { "?" } else { "" }, self.expr(&f.ty)))
                    .collect();
                if let Some(a) = &o.additional {
                    parts.push(format!("[key: string]: {}", self.index_type(&o.fields, a)));
                }
                if parts.is_empty() { "Record<string, never>".into() } else { format!("{{ {} }}", parts.join("; ")) }
            }
            Type::Enum(values) => values.iter().map(|v| string_literal(&v.value)).collect::<Vec<_>>().join(" | "),
            Type::Tagged(t) => t.variants.iter().map(|v| self.variant(&t.tagging, v)).collect::<Vec<_>>().join(" | "),
            Type::Union(alternatives) => {
                alternatives.iter().map(|a| self.expr(a)).collect::<Vec<_>>().join(" | ")
            }
            Type::AllOf(parts) => parts
                .iter()
                .map(|p| if is_union(p) { format!("({})", self.expr(p)) } else { self.expr(p) })
                .collect::<Vec<_>>()
                .join(" & "),
            Type::Ref(name) => self.names.defs[name].clone(),
        }
    }

    /// One variant of a serde enum as the object (or string) it is on the wire.
    fn variant(&mut self, tagging: &Tagging, v: &ir::Variant) -> String {
        let fields = |cx: &mut Cx, fs: &[Field]| -> String {
            let object = ir::Object { fields: fs.to_vec(), additional: None };
            cx.expr(&Type::Object(object))
        };
        let name = string_literal(&v.name);
        match (tagging, &v.payload) {
            (Tagging::External, Payload::Unit) => name,
            (Tagging::External, Payload::Fields(fs)) => format!("{{ {}: {} }}", property_key(&v.name), fields(self, fs)),
            (Tagging::External, Payload::Value(t)) => format!("{{ {}: {} }}", property_key(&v.name), self.expr(t)),
            (Tagging::Internal { tag }, Payload::Unit) | (Tagging::Adjacent { tag, .. }, Payload::Unit) => {
                format!("{{ {}: {name} }}", property_key(tag))
            }
            (Tagging::Internal { tag }, Payload::Fields(fs)) => {
                let mut parts = vec![format!("{}: {name}", property_key(tag))];
                for f in fs {
                    parts.push(format!("{}{}: {}", property_key(&f.name), if f.optional { "?" } else { "" }, self.expr(&f.ty)));
                }
                format!("{{ {} }}", parts.join("; "))
            }
            (Tagging::Internal { tag }, Payload::Value(t)) => {
                let inner = self.expr(t);
                let inner = if is_union(t) { format!("({inner})") } else { inner };
                format!("{{ {}: {name} }} & {inner}", property_key(tag))
            }
            (Tagging::Adjacent { tag, content }, Payload::Fields(fs)) => {
                format!("{{ {}: {name}; {}: {} }}", property_key(tag), property_key(content), fields(self, fs))
            }
            (Tagging::Adjacent { tag, content }, Payload::Value(t)) => {
                format!("{{ {}: {name}; {}: {} }}", property_key(tag), property_key(content), self.expr(t))
            }
        }
    }
}

fn is_union(t: &Type) -> bool {
    match t {
        Type::Nullable(_) | Type::Union(_) | Type::AllOf(_) => true,
        Type::Enum(v) => v.len() > 1,
        Type::Tagged(t) => t.variants.len() > 1,
        _ => false,
    }
}

fn is_simple(t: &Type) -> bool {
    matches!(
        t,
        Type::Any | Type::Null | Type::Bool | Type::Integer { .. } | Type::Number | Type::String | Type::Bytes | Type::Ref(_)
    )
}


fn literal(l: &Literal) -> String {
    match l {
        Literal::String(s) => string_literal(s),
        Literal::Number(n) => n.to_string(),
        Literal::Bool(b) => b.to_string(),
    }
}
