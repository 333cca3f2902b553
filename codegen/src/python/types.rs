//! Python annotations, decoders and declarations for the IR's types: dataclasses with
//! `to_wire` / `from_wire`, `Literal` aliases, tagged unions with their decoders, and the
//! hoisting of inline types into named declarations.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Field, Literal, Payload, Tagging, Type};
use crate::names::{doc_text, pascal};

use super::docs::{class_docs, docstring, field_doc};
use super::keywords::{is_reserved, CLASS_MEMBERS, RUNTIME};
use super::model::{Alternative, Decl, FieldKind, PyAlias, PyClass, PyField, PyTagged, PyUnion};
use super::names::{identifier, py_str, snake, unique};

/// What a named type became.
#[derive(Debug, Clone)]
pub(super) struct Named {
    pub(super) name: String,
    /// The decoder callable, or `None` when values arrive as they are.
    pub(super) decoder: Option<String>,
    /// Whether the guard of an untagged union may admit a string (external tagging
    /// with unit variants).
    pub(super) admits_string: bool,
}

/// A Python type: its annotation and decoder.
pub(super) struct PyTy {
    /// The annotation.
    pub(super) ann: String,
    /// A callable, or `None` for identity.
    pub(super) dec: Option<String>,
    /// Whether the annotation names a generated class (so an alias must be quoted).
    pub(super) names_class: bool,
}

/// What annotations and declarations are worked out with.
#[derive(Default)]
pub(super) struct Cx {
    /// Type-level names in use.
    pub(super) taken: BTreeSet<String>,
    /// What each `$defs` name became.
    pub(super) defs: BTreeMap<String, Named>,
    /// The declarations, in order.
    pub(super) decls: Vec<Decl>,
    /// Runtime helpers `types.py` uses.
    pub(super) runtime_used: BTreeSet<&'static str>,
    /// Hoisted inline types already declared, by the name they were given.
    pub(super) hoisted: BTreeSet<String>,
    /// The type of each `$defs` name.
    pub(super) def_types: BTreeMap<String, Type>,
}

impl Cx {
    /// A fresh type-level name: an identifier, not reserved, not taken.
    pub(super) fn type_name(&mut self, wanted: &str) -> String {
        let mut name = identifier(wanted);
        while is_reserved(&name) || RUNTIME.contains(&name.as_str()) || self.taken.contains(&name) {
            name.push('_');
        }
        self.taken.insert(name.clone());
        name
    }

    /// Whether values of `t` arrive as their Python value, needing no conversion.
    pub(super) fn is_identity(&self, t: &Type, visiting: &mut BTreeSet<String>) -> bool {
        match t {
            Type::Any | Type::Null | Type::Bool | Type::Integer { .. } | Type::Number | Type::String => true,
            Type::Literal(_) | Type::Enum(_) => true,
            Type::Nullable(i) | Type::List(i) | Type::Map(i) => self.is_identity(i, visiting),
            Type::Object(o) => o.fields.is_empty() && o.additional.as_ref().is_none_or(|a| self.is_identity(a, visiting)),
            Type::Union(alts) => alts.iter().all(|a| self.is_identity(a, visiting)),
            Type::Bytes | Type::Tuple(_) | Type::Tagged(_) | Type::AllOf(_) => false,
            Type::Ref(n) => {
                let Some(named) = self.defs.get(n) else { return true };
                if named.decoder.is_some() {
                    return false;
                }
                // An alias: look through it, once.
                if !visiting.insert(n.clone()) {
                    return false;
                }
                let target = self.def_types.get(n).cloned();
                let r = target.is_none_or(|t| self.is_identity(&t, visiting));
                visiting.remove(n);
                r
            }
        }
    }

    fn use_runtime(&mut self, name: &'static str) -> String {
        self.runtime_used.insert(name);
        name.to_string()
    }

    /// The annotation and decoder of a type, hoisting inline classes and unions into
    /// declarations named `ctx`.
    pub(super) fn py(&mut self, t: &Type, ctx: &str) -> PyTy {
        let simple = |ann: &str| PyTy { ann: ann.into(), dec: None, names_class: false };
        match t {
            Type::Any => simple("Any"),
            Type::Null => simple("None"),
            Type::Bool => simple("bool"),
            Type::Integer { .. } => simple("int"),
            Type::Number => simple("float"),
            Type::String => simple("str"),
            Type::Bytes => PyTy { ann: "bytes".into(), dec: Some(self.use_runtime("decode_bytes")), names_class: false },
            Type::Literal(l) => simple(&literal_annotation(l)),
            Type::Enum(values) => {
                simple(&format!("Literal[{}]", values.iter().map(|v| py_str(&v.value)).collect::<Vec<_>>().join(", ")))
            }
            Type::Nullable(inner) => {
                let i = self.py(inner, ctx);
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("optional")));
                PyTy { ann: nullable(&i.ann), dec, names_class: i.names_class }
            }
            Type::List(item) => {
                let i = self.py(item, &format!("{ctx}Item"));
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("list_of")));
                PyTy { ann: format!("list[{}]", i.ann), dec, names_class: i.names_class }
            }
            Type::Map(value) => {
                let i = self.py(value, &format!("{ctx}Value"));
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("map_of")));
                PyTy { ann: format!("dict[str, {}]", i.ann), dec, names_class: i.names_class }
            }
            Type::Tuple(items) => {
                let parts: Vec<PyTy> = items.iter().enumerate().map(|(i, t)| self.py(t, &format!("{ctx}{i}"))).collect();
                if parts.is_empty() {
                    return PyTy { ann: "tuple[()]".into(), dec: Some("lambda x: ()".into()), names_class: false };
                }
                let ann = format!("tuple[{}]", parts.iter().map(|p| p.ann.as_str()).collect::<Vec<_>>().join(", "));
                let reads: Vec<String> =
                    parts.iter().enumerate().map(|(i, p)| apply(&p.dec, &format!("x[{i}]"))).collect();
                let comma = if reads.len() == 1 { "," } else { "" };
                let dec = format!("lambda x: ({}{comma})", reads.join(", "));
                PyTy { ann, dec: Some(dec), names_class: parts.iter().any(|p| p.names_class) }
            }
            Type::Object(o) if o.fields.is_empty() => {
                let value = o.additional.as_deref().cloned().unwrap_or(Type::Any);
                self.py(&Type::Map(Box::new(value)), ctx)
            }
            Type::Object(_) | Type::AllOf(_) | Type::Tagged(_) => {
                let name = self.hoist(t, ctx);
                let dec = match t {
                    Type::Tagged(_) => format!("decode_{name}"),
                    _ => format!("{name}.from_wire"),
                };
                PyTy { ann: name, dec: Some(dec), names_class: true }
            }
            Type::Union(alts) => {
                let parts: Vec<PyTy> = alts.iter().enumerate().map(|(i, a)| self.py(a, &format!("{ctx}{i}"))).collect();
                if parts.iter().all(|p| p.dec.is_none()) {
                    let ann = union_annotation(parts.iter().map(|p| p.ann.clone()));
                    return PyTy { ann, dec: None, names_class: parts.iter().any(|p| p.names_class) };
                }
                let name = self.hoist(t, ctx);
                PyTy { ann: name.clone(), dec: Some(format!("decode_{name}")), names_class: true }
            }
            Type::Ref(n) => {
                let named = &self.defs[n];
                PyTy { ann: named.name.clone(), dec: named.decoder.clone(), names_class: true }
            }
        }
    }

    /// Declares an inline type under a name derived from `ctx`; answers the name.
    fn hoist(&mut self, t: &Type, ctx: &str) -> String {
        let name = self.type_name(ctx);
        if self.hoisted.insert(name.clone()) {
            let decoder = match t {
                Type::Tagged(_) | Type::Union(_) => Some(format!("decode_{name}")),
                _ => Some(format!("{name}.from_wire")),
            };
            let named = Named { name: name.clone(), decoder, admits_string: false };
            self.declare(&named, t, vec![]);
        }
        name
    }

    /// Declares a named type.
    pub(super) fn declare(&mut self, named: &Named, t: &Type, docs: Vec<String>) {
        let name = named.name.clone();
        match t {
            Type::Object(o) => {
                let class = self.class(&name, docs, &o.fields, &[], o.additional.as_deref(), None, Wrap::Struct);
                self.decls.push(Decl::Class(class));
            }
            Type::AllOf(parts) => {
                let (fields, flattened, extra) = split_parts(parts);
                let class = self.class(&name, docs, &fields, &flattened, extra.as_ref(), None, Wrap::Struct);
                self.decls.push(Decl::Class(class));
            }
            Type::Tagged(tagged) => {
                let mut variants = vec![];
                let mut classes = vec![];
                let mut lines = docs;
                for v in &tagged.variants {
                    let class_name = self.type_name(&format!("{name}{}", pascal(std::slice::from_ref(&v.name))));
                    let mut vdocs = doc_text(&v.description);
                    vdocs.push(String::new());
                    vdocs.push(format!("The `{}` variant of `{name}`.", v.name));
                    let wrap = Wrap::Variant(tagged.tagging.clone(), v.name.clone());
                    let class = match &v.payload {
                        Payload::Unit => self.class(&class_name, vdocs, &[], &[], None, None, wrap),
                        Payload::Fields(fs) => self.class(&class_name, vdocs, fs, &[], None, None, wrap),
                        Payload::Value(Type::AllOf(parts)) if matches!(tagged.tagging, Tagging::Internal { .. }) => {
                            let (fields, flattened, extra) = split_parts(parts);
                            self.class(&class_name, vdocs, &fields, &flattened, extra.as_ref(), None, wrap)
                        }
                        Payload::Value(t) => self.class(&class_name, vdocs, &[], &[], None, Some(t), wrap),
                    };
                    classes.push(class);
                    variants.push((py_str(&v.name), class_name));
                }
                for c in classes {
                    self.decls.push(Decl::Class(c));
                }
                if lines.is_empty() {
                    lines.push(format!("One of the variants of `{name}`."));
                }
                let value = quoted(&union_annotation(variants.iter().map(|(_, c)| c.clone())));
                let tag_expr = match &tagged.tagging {
                    Tagging::External => "v if isinstance(v, str) else next(iter(v))".to_string(),
                    Tagging::Internal { tag } | Tagging::Adjacent { tag, .. } => format!("v[{}]", py_str(tag)),
                };
                self.decls.push(Decl::Tagged(PyTagged {
                    decoder: format!("decode_{name}"),
                    name,
                    docs: docstring(&lines, 0),
                    value,
                    tag_expr,
                    variants,
                }));
            }
            Type::Union(alts) => {
                let mut anns = vec![];
                let mut alternatives = vec![];
                for (i, a) in alts.iter().enumerate() {
                    let p = self.py(a, &format!("{name}{i}"));
                    anns.push(p.ann.clone());
                    let fallible = p.dec.is_some();
                    alternatives.push(Alternative { guard: self.guard(a), decode: apply(&p.dec, "v"), fallible });
                }
                self.use_runtime("is_number");
                self.use_runtime("is_integer");
                self.decls.push(Decl::Union(PyUnion {
                    decoder: format!("decode_{name}"),
                    name,
                    docs: docstring(&docs, 0),
                    value: quoted(&union_annotation(anns)),
                    alternatives,
                }));
            }
            other => {
                let p = self.py(other, &format!("{name}Value"));
                let value = if p.names_class { quoted(&p.ann) } else { p.ann.clone() };
                let decode = apply(&p.dec, "v");
                self.decls.push(Decl::Alias(PyAlias {
                    name: name.clone(),
                    docs: docstring(&docs, 0),
                    value,
                    decoder: named.decoder.clone(),
                    decode,
                }));
            }
        }
    }

    /// Whether a wire value `v` may be of type `t`: a cheap check before decoding.
    fn guard(&self, t: &Type) -> String {
        match t {
            Type::Any | Type::Union(_) => "True".into(),
            Type::Null => "v is None".into(),
            Type::Bool => "isinstance(v, bool)".into(),
            Type::Integer { .. } => "is_integer(v)".into(),
            Type::Number => "is_number(v)".into(),
            Type::String => "isinstance(v, str)".into(),
            Type::Literal(l) => format!("v == {}", literal_value(l)),
            Type::Enum(values) => {
                format!("v in ({},)", values.iter().map(|v| py_str(&v.value)).collect::<Vec<_>>().join(", "))
            }
            Type::Nullable(i) => format!("v is None or ({})", self.guard(i)),
            Type::Bytes | Type::List(_) | Type::Tuple(_) => "isinstance(v, (list, tuple, bytes))".into(),
            Type::Map(_) | Type::Object(_) | Type::AllOf(_) => "isinstance(v, dict)".into(),
            Type::Tagged(_) => "isinstance(v, (dict, str))".into(),
            Type::Ref(n) => {
                let named = &self.defs[n];
                match self.def_types.get(n) {
                    Some(Type::Union(_)) => "True".into(),
                    Some(Type::Tagged(_)) if named.admits_string => "isinstance(v, (dict, str))".into(),
                    Some(Type::Tagged(_)) | Some(Type::Object(_)) | Some(Type::AllOf(_)) => "isinstance(v, dict)".into(),
                    Some(other) => {
                        let other = other.clone();
                        if matches!(other, Type::Ref(_)) { "True".into() } else { self.guard(&other) }
                    }
                    None => "True".into(),
                }
            }
        }
    }

    /// A named field of a class: its attribute (escaped among `attrs`), annotation,
    /// encoding and decoding, and its line of the docstring.
    fn named_field(&mut self, attrs: &mut BTreeSet<String>, name: &str, f: &Field) -> (PyField, (String, String)) {
        let attr = unique(attrs, &f.name);
        let ty = self.py(&f.ty, &format!("{name}{}", pascal(std::slice::from_ref(&f.name))));
        let identity = self.is_identity(&f.ty, &mut BTreeSet::new());
        let encode = if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") };
        let wire = py_str(&f.name);
        let (annotation, default, kind, decode) = if f.optional {
            let dec = ty.dec.as_ref().map(|d| format!("{}({d})", self.use_runtime("optional")));
            (nullable(&ty.ann), " = None".to_string(), FieldKind::Optional, apply(&dec, &format!("d.get({wire})")))
        } else {
            (ty.ann.clone(), String::new(), FieldKind::Required, apply(&ty.dec, &format!("d[{wire}]")))
        };
        let mut doc = field_doc(f);
        if attr != f.name {
            doc = format!("{doc} On the wire: `{}`.", f.name).trim().to_string();
        }
        if doc.is_empty() {
            doc = format!("`{annotation}`.");
        }
        (PyField { attr: attr.clone(), annotation, default, kind, wire, encode, decode }, (attr, doc))
    }

    #[allow(clippy::too_many_arguments)]
    fn class(
        &mut self,
        name: &str,
        docs: Vec<String>,
        fields: &[Field],
        flattened: &[Type],
        extra: Option<&Type>,
        value: Option<&Type>,
        wrap: Wrap,
    ) -> PyClass {
        let mut attrs: BTreeSet<String> = CLASS_MEMBERS.iter().map(|s| s.to_string()).collect();
        attrs.extend(self.taken.iter().cloned());
        let mut out = vec![];
        let mut attr_docs = vec![];
        for f in fields {
            let (field, doc) = self.named_field(&mut attrs, name, f);
            attr_docs.push(doc);
            out.push(field);
        }
        for (i, t) in flattened.iter().enumerate() {
            let wanted = match t {
                Type::Ref(n) => snake(&self.defs[n].name),
                _ => "variant".to_string(),
            };
            let attr = unique(&mut attrs, &wanted);
            let ty = self.py(t, &format!("{name}{}", if i == 0 { "Variant".to_string() } else { format!("Variant{i}") }));
            attr_docs.push((attr.clone(), format!("Flattened: its keys sit beside the other fields on the wire ({}).", ty.ann)));
            out.push(PyField {
                annotation: ty.ann.clone(),
                default: String::new(),
                kind: FieldKind::Flatten,
                wire: String::new(),
                encode: format!("to_wire(self.{attr})"),
                decode: apply(&ty.dec, "d"),
                attr,
            });
        }
        let known: Vec<String> = fields.iter().map(|f| py_str(&f.name)).collect();
        if let Some(t) = extra {
            let attr = unique(&mut attrs, "extra");
            let ty = self.py(t, &format!("{name}Extra"));
            let identity = self.is_identity(t, &mut BTreeSet::new());
            attr_docs.push((attr.clone(), "Other keys, sent beside the fields.".into()));
            out.push(PyField {
                annotation: format!("dict[str, {}]", ty.ann),
                default: " = field(default_factory=dict)".into(),
                kind: FieldKind::Extra,
                wire: String::new(),
                encode: if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") },
                decode: format!("{{k: {} for k, x in d.items() if k not in cls._KNOWN}}", apply(&ty.dec, "x")),
                attr,
            });
        }
        let mut value_attr = None;
        if let Some(t) = value {
            let attr = unique(&mut attrs, "value");
            let ty = self.py(t, &format!("{name}Value"));
            let identity = self.is_identity(t, &mut BTreeSet::new());
            let encode = if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") };
            attr_docs.push((attr.clone(), "The variant's value.".into()));
            out.push(PyField {
                annotation: ty.ann.clone(),
                default: String::new(),
                kind: FieldKind::Value,
                wire: String::new(),
                encode: encode.clone(),
                decode: apply(&ty.dec, "d"),
                attr,
            });
            value_attr = Some(encode);
        }
        if out.iter().any(|f| f.encode.starts_with("to_wire(")) {
            self.use_runtime("to_wire");
        }
        let builds_dict = value.is_none() && !out.is_empty();
        let (encode_return, decode_payload) = wrapping(&wrap, value_attr, out.is_empty());
        let lines = class_docs(name, docs, attr_docs);
        PyClass {
            name: name.to_string(),
            docs: docstring(&lines, 4),
            fields: out,
            builds_dict,
            encode_return,
            decode_payload,
            has_extra: extra.is_some(),
            known_keys: format!("({}{})", known.join(", "), if known.len() == 1 { "," } else { "" }),
        }
    }
}

/// What a class's `to_wire` returns around its dict `d` (or its value `e`), and where
/// `from_wire` finds its fields in the wire value `v`: serde's tagging of the variant.
fn wrapping(wrap: &Wrap, value_attr: Option<String>, no_fields: bool) -> (String, String) {
    match (wrap, value_attr) {
        (Wrap::Struct, _) => ("d".to_string(), "v".to_string()),
        (Wrap::Variant(Tagging::External, v), None) if no_fields => (py_str(v), "v".into()),
        (Wrap::Variant(Tagging::External, v), None) => (format!("{{{}: d}}", py_str(v)), format!("v[{}]", py_str(v))),
        (Wrap::Variant(Tagging::External, v), Some(e)) => {
            (format!("{{{}: {e}}}", py_str(v)), format!("v[{}]", py_str(v)))
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), None) if no_fields => {
            (format!("{{{}: {}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), None) => {
            (format!("{{{}: {}, **d}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), Some(e)) => {
            (format!("{{{}: {}, **{e}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Adjacent { tag, .. }, v), None) if no_fields => {
            (format!("{{{}: {}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Adjacent { tag, content }, v), None) => {
            (format!("{{{}: {}, {}: d}}", py_str(tag), py_str(v), py_str(content)), format!("v[{}]", py_str(content)))
        }
        (Wrap::Variant(Tagging::Adjacent { tag, content }, v), Some(e)) => {
            (format!("{{{}: {}, {}: {e}}}", py_str(tag), py_str(v), py_str(content)), format!("v[{}]", py_str(content)))
        }
    }
}

enum Wrap {
    Struct,
    Variant(Tagging, String),
}

/// The parts of an `AllOf`: object fields, flattened values, and a flattened map's type.
fn split_parts(parts: &[Type]) -> (Vec<Field>, Vec<Type>, Option<Type>) {
    let mut fields = vec![];
    let mut flattened = vec![];
    let mut extra = None;
    for p in parts {
        match p {
            Type::Object(o) => {
                fields.extend(o.fields.iter().cloned());
                if let Some(a) = &o.additional {
                    extra = Some((**a).clone());
                }
            }
            Type::AllOf(inner) => {
                let (f, fl, e) = split_parts(inner);
                fields.extend(f);
                flattened.extend(fl);
                extra = extra.or(e);
            }
            other => flattened.push(other.clone()),
        }
    }
    (fields, flattened, extra)
}

/// Renders an applied decoder: `dec(expr)`, or `expr` for identity.
pub(super) fn apply(dec: &Option<String>, expr: &str) -> String {
    match dec {
        None => expr.to_string(),
        Some(d) if d.starts_with("lambda ") => format!("({d})({expr})"),
        Some(d) => format!("{d}({expr})"),
    }
}

pub(super) fn nullable(ann: &str) -> String {
    if ann == "None" || ann == "Any" || ann.ends_with(" | None") {
        ann.to_string()
    } else {
        format!("{ann} | None")
    }
}

fn union_annotation(parts: impl IntoIterator<Item = String>) -> String {
    let mut seen = BTreeSet::new();
    let parts: Vec<String> = parts.into_iter().filter(|p| seen.insert(p.clone())).collect();
    if parts.iter().any(|p| p == "Any") {
        return "Any".into();
    }
    parts.join(" | ")
}

/// An annotation as the value of a type alias, quoted so it may name classes declared
/// later.
fn quoted(ann: &str) -> String {
    if ann.contains('\'') {
        py_str(ann)
    } else {
        format!("'{ann}'")
    }
}

fn literal_annotation(l: &Literal) -> String {
    match l {
        Literal::String(s) => format!("Literal[{}]", py_str(s)),
        Literal::Bool(b) => format!("Literal[{}]", if *b { "True" } else { "False" }),
        Literal::Number(n) if n.is_i64() || n.is_u64() => format!("Literal[{n}]"),
        Literal::Number(_) => "float".into(),
    }
}

fn literal_value(l: &Literal) -> String {
    match l {
        Literal::String(s) => py_str(s),
        Literal::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Literal::Number(n) => n.to_string(),
    }
}
