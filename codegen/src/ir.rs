//! The language-neutral model of a service: what every SDK generator starts from.
//!
//! [`Service::from_document`] reads the JSON Schemas of a [`SchemaDocument`] (as schemars 1.x
//! writes them) into [`Type`]s, recognising serde's shapes: structs, optional and
//! nullable fields, maps, tuples, unit enums, the four enum taggings, flattening. A
//! schema that cannot be mapped is reported with where it was found; nothing is guessed.
//!
//! Names here are the wire names, untouched. Each language's model (for example
//! [`crate::typescript::model`]) escapes and renames them for its target.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use volley_schema::SchemaDocument;

/// A whole service: the document with its schemas turned into types.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service's name.
    pub name: String,
    /// The service's version, when the document gives one.
    pub version: Option<String>,
    /// Doc text.
    pub description: Option<String>,
    /// The subprotocols the server accepts.
    pub encodings: Vec<String>,
    /// Every method, in document order.
    pub methods: Vec<Method>,
    /// Topics the server notifies on.
    pub topics: Vec<Topic>,
    /// Shared states.
    pub states: Vec<State>,
    /// Named types (the document's `$defs`), sorted by name.
    pub types: Vec<TypeDef>,
    /// Error codes the server lists.
    pub errors: Vec<ErrorCode>,
}

pub use volley_schema::{Shape, Side};

/// One method.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// The wire name, such as `calc.add`.
    pub name: String,
    /// The wire name split at dots: namespaces, then the method's own name.
    pub path: Vec<String>,
    /// Doc text.
    pub description: Option<String>,
    /// `Some` when deprecated, holding what to use instead (possibly empty).
    pub deprecated: Option<String>,
    /// Who serves it.
    pub side: Side,
    /// Its call shape.
    pub kind: Shape,
    /// The parameters, in the schema's order.
    pub params: Vec<Field>,
    /// The `RESULT` value (unary and client streams).
    pub result: Option<Type>,
    /// The items the caller streams (client and bidi streams).
    pub input: Option<Type>,
    /// The items the callee streams (server and bidi streams).
    pub output: Option<Type>,
    /// The `data` of `APPLICATION` errors, when the method has a typed error.
    pub error: Option<Type>,
}

/// A topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// The topic's name.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The notification value.
    pub payload: Type,
}

/// A shared state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The state's name.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The whole state document.
    pub schema: Type,
}

/// An error code the server lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCode {
    /// The numeric code.
    pub code: i64,
    /// Its stable name.
    pub name: String,
    /// What it means.
    pub description: Option<String>,
}

/// A named type from `$defs`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// The `$defs` key, as the server named it.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// What it is.
    pub ty: Type,
}

/// A field of an object, or a parameter of a method.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The wire name (after serde's renames).
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The value's type; a nullable field has a [`Type::Nullable`].
    pub ty: Type,
    /// Whether the key may be left out (serde `default`, or an `Option`).
    pub optional: bool,
    /// The default value the server fills in when the key is left out.
    pub default: Option<Value>,
    /// Declared constraints.
    pub constraints: Constraints,
}

/// Constraints a schema declares (PROTOCOL.md section 9), kept for docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `minimum`.
    pub minimum: Option<Value>,
    /// `maximum`.
    pub maximum: Option<Value>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
}

impl Constraints {
    /// Whether nothing is constrained.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// The constraints as short phrases, such as `minimum 1`.
    pub fn phrases(&self) -> Vec<String> {
        let mut out = vec![];
        let mut push = |label: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("{label} {v}"));
            }
        };
        push("minimum", self.minimum.as_ref().map(Value::to_string));
        push("maximum", self.maximum.as_ref().map(Value::to_string));
        push("min length", self.min_length.map(|v| v.to_string()));
        push("max length", self.max_length.map(|v| v.to_string()));
        push("pattern", self.pattern.clone().map(|p| format!("`{p}`")));
        push("min items", self.min_items.map(|v| v.to_string()));
        push("max items", self.max_items.map(|v| v.to_string()));
        out
    }
}

/// An integer's width, from the schema's `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntFormat {
    /// Whether negative values are allowed.
    pub signed: bool,
    /// Bits; `None` when the schema names no width (take it as unbounded).
    pub bits: Option<u32>,
}

impl IntFormat {
    /// Whether every value of this integer is exactly representable as an IEEE 754
    /// double, that is lies within ±(2^53 − 1).
    pub fn fits_in_double(&self) -> bool {
        matches!(self.bits, Some(b) if b <= 32)
    }
}

/// A JSON literal used as a type (`const`).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string.
    String(String),
    /// A number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// A type, as far as the wire is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Any value (`true` or `{}` in JSON Schema).
    Any,
    /// Only null: Rust's `()` and unit structs.
    Null,
    /// A boolean.
    Bool,
    /// An integer of some width.
    Integer {
        /// The width.
        format: IntFormat,
        /// `minimum` and `maximum`, when both are declared and are integers.
        range: Option<(i128, i128)>,
    },
    /// A floating-point number.
    Number,
    /// A string.
    String,
    /// Bytes: a list of `uint8` in the schema (serde's `Vec<u8>`). JSON carries a list
    /// of numbers; MessagePack a list or, with `serde_bytes`, a binary.
    Bytes,
    /// One fixed value.
    Literal(Literal),
    /// The inner type, or null.
    Nullable(Box<Type>),
    /// A list.
    List(Box<Type>),
    /// A map from strings to values.
    Map(Box<Type>),
    /// A fixed-length list whose positions have their own types.
    Tuple(Vec<Type>),
    /// An object with known fields.
    Object(Object),
    /// A unit-only enum: one of a few strings.
    Enum(Vec<EnumValue>),
    /// A serde enum with a recognised tagging.
    Tagged(Tagged),
    /// An untagged union: the first alternative the value fits.
    Union(Vec<Type>),
    /// All of these at once (serde flattening an enum, or a newtype variant of an
    /// internally tagged enum).
    AllOf(Vec<Type>),
    /// A named type from `$defs`.
    Ref(String),
}

impl Type {
    /// Whether this type is `Nullable`.
    pub fn is_nullable(&self) -> bool {
        matches!(self, Type::Nullable(_))
    }

    /// Every `$defs` name this type refers to, directly or inside.
    pub fn refs(&self, out: &mut BTreeSet<String>) {
        match self {
            Type::Ref(n) => {
                out.insert(n.clone());
            }
            Type::Nullable(t) | Type::List(t) | Type::Map(t) => t.refs(out),
            Type::Tuple(ts) | Type::Union(ts) | Type::AllOf(ts) => ts.iter().for_each(|t| t.refs(out)),
            Type::Object(o) => {
                o.fields.iter().for_each(|f| f.ty.refs(out));
                if let Some(a) = &o.additional {
                    a.refs(out);
                }
            }
            Type::Tagged(t) => t.variants.iter().for_each(|v| match &v.payload {
                Payload::Unit => {}
                Payload::Fields(fs) => fs.iter().for_each(|f| f.ty.refs(out)),
                Payload::Value(t) => t.refs(out),
            }),
            _ => {}
        }
    }
}

/// An object's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Known fields, in the schema's order.
    pub fields: Vec<Field>,
    /// The type of other keys (a flattened map), if they are allowed and typed.
    pub additional: Option<Box<Type>>,
}

/// One value of a unit enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The string on the wire.
    pub value: String,
    /// Doc text.
    pub description: Option<String>,
}

/// How a serde enum puts its variant's name on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tagging {
    /// `{"Variant": payload}`, or `"Variant"` for a unit variant (serde's default).
    External,
    /// `{"tag": "Variant", ...fields}` (`#[serde(tag = "...")]`).
    Internal {
        /// The tag's key.
        tag: String,
    },
    /// `{"tag": "Variant", "content": payload}` (`#[serde(tag, content)]`).
    Adjacent {
        /// The tag's key.
        tag: String,
        /// The payload's key.
        content: String,
    },
}

/// A serde enum whose variants carry data, recognised from its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagged {
    /// How the variant is named on the wire.
    pub tagging: Tagging,
    /// The variants, in the schema's order.
    pub variants: Vec<Variant>,
}

/// One variant of a [`Tagged`] enum.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The variant's name on the wire (the tag's value).
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// What it carries.
    pub payload: Payload,
}

/// What a variant carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Nothing.
    Unit,
    /// Named fields (a struct variant).
    Fields(Vec<Field>),
    /// One value: a newtype variant, or a [`Type::Tuple`] for a tuple variant. Under
    /// internal tagging its fields sit beside the tag.
    Value(Type),
}

/// Why part of a document could not be mapped to types.
#[derive(Debug, Clone, PartialEq)]
pub struct MapError {
    /// Where in the document, such as `methods[calc.add].params.a`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every problem found in a document.
#[derive(Debug, Clone, PartialEq)]
pub struct MapErrors(pub Vec<MapError>);

impl fmt::Display for MapErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot map {} schema{}:", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MapErrors {}

impl Service {
    /// Builds the model of a loaded document, or lists every schema it cannot map.
    pub fn from_document(doc: &SchemaDocument) -> Result<Service, MapErrors> {
        let mut cx = Mapper { defs: &doc.defs, errors: vec![] };
        let mut methods = vec![];
        for m in &doc.methods {
            let at = format!("methods[{}]", m.name);
            let (side, kind) = (m.side, m.kind);
            let params = match &m.params {
                Value::Null => vec![],
                schema => match cx.ty(schema, &format!("{at}.params")) {
                    Type::Object(o) => o.fields,
                    Type::Any => vec![],
                    _ => {
                        cx.error(&format!("{at}.params"), "params must be an object schema".into());
                        vec![]
                    }
                },
            };
            let mut opt = |schema: &Option<Value>, what: &str| match schema {
                None | Some(Value::Null) => None,
                Some(s) => Some(cx.ty(s, &format!("{at}.{what}"))),
            };
            let result = opt(&m.result, "result");
            let input = opt(&m.input, "input");
            let output = opt(&m.output, "output");
            let error = opt(&m.error, "error");
            methods.push(Method {
                name: m.name.clone(),
                path: m.name.split('.').map(str::to_string).collect(),
                description: clean(&m.description),
                deprecated: m.deprecated.clone(),
                side,
                kind,
                params,
                result: if kind.has_result() {
                    Some(result.unwrap_or(Type::Null))
                } else {
                    None
                },
                input: if kind.caller_streams() { Some(input.unwrap_or(Type::Any)) } else { None },
                output: if kind.callee_streams() { Some(output.unwrap_or(Type::Any)) } else { None },
                error,
            });
        }
        let topics = doc
            .topics
            .iter()
            .map(|t| Topic {
                name: t.name.clone(),
                description: clean(&t.description),
                payload: cx.ty(&t.payload, &format!("topics[{}].payload", t.name)),
            })
            .collect();
        let states = doc
            .states
            .iter()
            .map(|s| State {
                name: s.name.clone(),
                description: clean(&s.description),
                schema: cx.ty(&s.schema, &format!("states[{}].schema", s.name)),
            })
            .collect();
        let mut names: Vec<&String> = doc.defs.keys().collect();
        names.sort();
        let types = names
            .into_iter()
            .map(|name| {
                let schema = &doc.defs[name];
                TypeDef {
                    name: name.clone(),
                    description: description(schema),
                    ty: cx.ty(schema, &format!("$defs[{name}]")),
                }
            })
            .collect();
        let errors = doc
            .errors
            .iter()
            .map(|e| ErrorCode { code: e.code, name: e.name.clone(), description: clean(&e.description) })
            .collect();
        if !cx.errors.is_empty() {
            return Err(MapErrors(cx.errors));
        }
        Ok(Service {
            name: doc.name.clone(),
            version: clean(&doc.version),
            description: clean(&doc.description),
            encodings: doc.encodings.clone(),
            methods,
            topics,
            states,
            types,
            errors,
        })
    }
}

/// A description, or `None` when it is empty.
fn clean(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn description(schema: &Value) -> Option<String> {
    clean(schema.get("description").and_then(Value::as_str).unwrap_or(""))
}

/// Keys that describe a value without changing its shape.
const ANNOTATIONS: &[&str] = &[
    "description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "$comment", "$schema", "$id", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems",
    "maxItems", "uniqueItems", "minProperties", "maxProperties", "contentEncoding",
    "contentMediaType", "$defs", "definitions", "nullable",
];

/// Keys this mapper understands beyond [`ANNOTATIONS`].
const STRUCTURAL: &[&str] = &[
    "type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "enum", "const", "oneOf", "anyOf", "allOf", "$ref",
];

struct Mapper<'a> {
    defs: &'a Map<String, Value>,
    errors: Vec<MapError>,
}

impl Mapper<'_> {
    fn error(&mut self, at: &str, message: String) {
        self.errors.push(MapError { at: at.to_string(), message });
    }

    fn ty(&mut self, schema: &Value, at: &str) -> Type {
        let obj = match schema {
            Value::Bool(true) => return Type::Any,
            Value::Bool(false) => {
                self.error(at, "the schema `false` admits no value".into());
                return Type::Any;
            }
            Value::Object(o) => o,
            other => {
                self.error(at, format!("a schema must be an object or a boolean, not {other}"));
                return Type::Any;
            }
        };
        for key in obj.keys() {
            if !ANNOTATIONS.contains(&key.as_str()) && !STRUCTURAL.contains(&key.as_str()) {
                if key.starts_with("x-") {
                    continue;
                }
                if matches!(
                    key.as_str(),
                    "not" | "if" | "then" | "else" | "patternProperties" | "dependentSchemas"
                        | "dependentRequired" | "$dynamicRef" | "propertyNames" | "contains"
                        | "unevaluatedProperties" | "unevaluatedItems"
                ) {
                    self.error(at, format!("the JSON Schema keyword `{key}` cannot be mapped to a type"));
                    return Type::Any;
                }
                // Unknown keys are ignored (PROTOCOL.md section 9).
            }
        }
        if let Some(r) = obj.get("$ref") {
            let target = self.reference(r, at);
            let rest: Map<String, Value> = obj
                .iter()
                .filter(|(k, _)| k.as_str() != "$ref" && STRUCTURAL.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if rest.is_empty() {
                return target;
            }
            let other = self.ty(&Value::Object(rest), at);
            return Type::AllOf(vec![target, other]);
        }
        if let Some(c) = obj.get("const") {
            return match literal(c) {
                Some(l) => Type::Literal(l),
                None if c.is_null() => Type::Null,
                None => {
                    self.error(at, format!("the constant {c} is not a string, number or boolean"));
                    Type::Any
                }
            };
        }
        if let Some(values) = obj.get("enum") {
            return self.enumeration(values, at);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(members) = obj.get(key) {
                let Some(members) = members.as_array() else {
                    self.error(at, format!("`{key}` must be a list"));
                    return Type::Any;
                };
                let union = self.union(members, key == "oneOf", at);
                let rest: Map<String, Value> = obj
                    .iter()
                    .filter(|(k, _)| k.as_str() != key && STRUCTURAL.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if rest.is_empty() {
                    return union;
                }
                // A struct with a flattened enum: its own fields and one of the variants.
                let base = self.ty(&Value::Object(rest), at);
                return Type::AllOf(vec![base, union]);
            }
        }
        if let Some(all) = obj.get("allOf") {
            let Some(all) = all.as_array() else {
                self.error(at, "`allOf` must be a list".into());
                return Type::Any;
            };
            let mut parts: Vec<Type> =
                all.iter().enumerate().map(|(i, s)| self.ty(s, &format!("{at}.allOf[{i}]"))).collect();
            return if parts.len() == 1 { parts.remove(0) } else { Type::AllOf(parts) };
        }
        match obj.get("type") {
            None => {
                if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
                    self.typed(obj, "object", at)
                } else if obj.contains_key("items") || obj.contains_key("prefixItems") {
                    self.typed(obj, "array", at)
                } else {
                    Type::Any
                }
            }
            Some(Value::String(t)) => self.typed(obj, t, at),
            Some(Value::Array(ts)) => {
                let mut nullable = false;
                let mut alternatives = vec![];
                for t in ts {
                    match t.as_str() {
                        Some("null") => nullable = true,
                        Some(t) => alternatives.push(self.typed(obj, t, at)),
                        None => self.error(at, format!("`type` lists {t}, not a type name")),
                    }
                }
                let inner = match alternatives.len() {
                    0 => return Type::Null,
                    1 => alternatives.remove(0),
                    _ => Type::Union(alternatives),
                };
                if nullable {
                    Type::Nullable(Box::new(inner))
                } else {
                    inner
                }
            }
            Some(other) => {
                self.error(at, format!("`type` is {other}, not a type name"));
                Type::Any
            }
        }
    }

    fn reference(&mut self, r: &Value, at: &str) -> Type {
        let Some(r) = r.as_str() else {
            self.error(at, "`$ref` must be a string".into());
            return Type::Any;
        };
        let name = r.strip_prefix("#/$defs/").or_else(|| r.strip_prefix("#/definitions/"));
        match name {
            Some(name) => {
                let name = name.replace("~1", "/").replace("~0", "~");
                if self.defs.contains_key(&name) {
                    Type::Ref(name)
                } else {
                    self.error(at, format!("`$ref` names `{name}`, which is not in `$defs`"));
                    Type::Any
                }
            }
            None => {
                self.error(at, format!("`$ref` `{r}` does not point into the document's `$defs`"));
                Type::Any
            }
        }
    }

    fn typed(&mut self, obj: &Map<String, Value>, t: &str, at: &str) -> Type {
        match t {
            "null" => Type::Null,
            "boolean" => Type::Bool,
            "number" => Type::Number,
            "string" => Type::String,
            "integer" => self.integer(obj, at),
            "array" => self.array(obj, at),
            "object" => self.object(obj, at),
            other => {
                self.error(at, format!("unknown JSON Schema type `{other}`"));
                Type::Any
            }
        }
    }

    fn integer(&mut self, obj: &Map<String, Value>, at: &str) -> Type {
        let format = match obj.get("format").and_then(Value::as_str) {
            None => IntFormat { signed: true, bits: None },
            Some(f) => match int_format(f) {
                Some(format) => format,
                None => {
                    self.error(at, format!("unknown integer format `{f}`"));
                    return Type::Any;
                }
            },
        };
        let bound = |k: &str| obj.get(k).and_then(|v| v.as_i64().map(i128::from).or(v.as_u64().map(i128::from)));
        let range = match (bound("minimum"), bound("maximum")) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        Type::Integer { format, range }
    }

    fn array(&mut self, obj: &Map<String, Value>, at: &str) -> Type {
        if let Some(prefix) = obj.get("prefixItems") {
            let Some(prefix) = prefix.as_array() else {
                self.error(at, "`prefixItems` must be a list".into());
                return Type::Any;
            };
            return Type::Tuple(
                prefix.iter().enumerate().map(|(i, s)| self.ty(s, &format!("{at}[{i}]"))).collect(),
            );
        }
        match obj.get("items") {
            None => Type::List(Box::new(Type::Any)),
            Some(items) => {
                let item = self.ty(items, &format!("{at}[]"));
                match item {
                    Type::Integer { format: IntFormat { signed: false, bits: Some(8) }, .. } => Type::Bytes,
                    item => Type::List(Box::new(item)),
                }
            }
        }
    }

    fn object(&mut self, obj: &Map<String, Value>, at: &str) -> Type {
        let additional = match obj.get("additionalProperties") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(Box::new(Type::Any)),
            Some(s) => Some(Box::new(self.ty(s, &format!("{at}.*")))),
        };
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = vec![];
        if let Some(props) = obj.get("properties") {
            let Some(props) = props.as_object() else {
                self.error(at, "`properties` must be an object".into());
                return Type::Any;
            };
            for (name, schema) in props {
                fields.push(self.field(name, schema, !required.contains(name.as_str()), &format!("{at}.{name}")));
            }
        }
        if fields.is_empty() && obj.get("properties").is_none() {
            if let Some(additional) = additional {
                return Type::Map(additional);
            }
        }
        Type::Object(Object { fields, additional })
    }

    fn field(&mut self, name: &str, schema: &Value, optional: bool, at: &str) -> Field {
        let get = |k: &str| schema.get(k);
        Field {
            name: name.to_string(),
            description: description(schema),
            ty: self.ty(schema, at),
            optional,
            default: get("default").cloned(),
            constraints: Constraints {
                minimum: get("minimum").cloned(),
                maximum: get("maximum").cloned(),
                min_length: get("minLength").and_then(Value::as_u64),
                max_length: get("maxLength").and_then(Value::as_u64),
                pattern: get("pattern").and_then(Value::as_str).map(str::to_string),
                min_items: get("minItems").and_then(Value::as_u64),
                max_items: get("maxItems").and_then(Value::as_u64),
            },
        }
    }

    fn enumeration(&mut self, values: &Value, at: &str) -> Type {
        let Some(values) = values.as_array() else {
            self.error(at, "`enum` must be a list".into());
            return Type::Any;
        };
        let nullable = values.iter().any(Value::is_null);
        let values: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        let inner = if values.iter().all(|v| v.is_string()) {
            Type::Enum(
                values
                    .iter()
                    .map(|v| EnumValue { value: v.as_str().unwrap_or_default().to_string(), description: None })
                    .collect(),
            )
        } else {
            let mut literals = vec![];
            for v in values {
                match literal(v) {
                    Some(l) => literals.push(Type::Literal(l)),
                    None => self.error(at, format!("the enum value {v} is not a string, number or boolean")),
                }
            }
            Type::Union(literals)
        };
        if nullable {
            Type::Nullable(Box::new(inner))
        } else {
            inner
        }
    }

    fn union(&mut self, members: &[Value], one_of: bool, at: &str) -> Type {
        let is_null = |m: &Value| m.get("type").and_then(Value::as_str) == Some("null") && m.as_object().is_some_and(|o| o.len() == 1);
        let nullable = members.iter().any(is_null);
        let members: Vec<&Value> = members.iter().filter(|m| !is_null(m)).collect();
        let inner = if members.len() == 1 {
            self.ty(members[0], at)
        } else if let Some(values) = unit_enum(&members) {
            Type::Enum(values)
        } else if let Some(tagged) = one_of.then(|| self.tagged(&members, at)).flatten() {
            Type::Tagged(tagged)
        } else {
            Type::Union(
                members.iter().enumerate().map(|(i, m)| self.ty(m, &format!("{at}|{i}"))).collect(),
            )
        };
        if nullable {
            Type::Nullable(Box::new(inner))
        } else {
            inner
        }
    }

    /// Recognises serde's external, internal and adjacent taggings.
    fn tagged(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        self.external(members, at)
            .or_else(|| self.adjacent(members, at))
            .or_else(|| self.internal(members, at))
    }

    fn external(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        // Check the whole shape first so a failed guess reports no errors.
        let mut units_only = true;
        for m in members {
            if string_values(m).is_some() {
                continue;
            }
            units_only = false;
            let props = m.get("properties")?.as_object()?;
            let required = m.get("required")?.as_array()?;
            if props.len() != 1 || required.len() != 1 || m.get("additionalProperties") != Some(&Value::Bool(false)) {
                return None;
            }
            if required[0].as_str()? != props.keys().next()? {
                return None;
            }
        }
        if units_only {
            return None;
        }
        let mut variants = vec![];
        for m in members {
            if let Some(values) = string_values(m) {
                for v in values {
                    variants.push(Variant { name: v.value, description: v.description, payload: Payload::Unit });
                }
                continue;
            }
            let (name, schema) = m.get("properties")?.as_object()?.iter().next()?;
            let payload = self.payload(schema, &format!("{at}.{name}"));
            variants.push(Variant { name: name.clone(), description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::External, variants })
    }

    fn adjacent(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        let tag = common_tag(members)?;
        let mut content: Option<String> = None;
        for m in members {
            if m.get("$ref").is_some() {
                return None;
            }
            let props = m.get("properties")?.as_object()?;
            for key in props.keys().filter(|k| **k != tag) {
                match &content {
                    None => content = Some(key.clone()),
                    Some(c) if c == key => {}
                    Some(_) => return None,
                }
            }
        }
        let content = content?;
        // `{tag, x}` is also an internally tagged struct variant with one field `x`;
        // take it as adjacent only when several variants agree or the key says so.
        let with_content = members.iter().filter(|m| m.get("properties").and_then(|p| p.get(&content)).is_some()).count();
        if with_content < 2 && !["c", "content", "data", "value", "payload"].contains(&content.as_str()) {
            return None;
        }
        let mut variants = vec![];
        for m in members {
            let props = m.get("properties")?.as_object()?;
            let name = props.get(&tag)?.get("const")?.as_str()?.to_string();
            let payload = match props.get(&content) {
                None => Payload::Unit,
                Some(schema) => self.payload(schema, &format!("{at}.{name}")),
            };
            variants.push(Variant { name, description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::Adjacent { tag, content }, variants })
    }

    fn internal(&mut self, members: &[&Value], at: &str) -> Option<Tagged> {
        let tag = common_tag(members)?;
        let mut variants = vec![];
        for m in members {
            let obj = m.as_object()?;
            let props = obj.get("properties")?.as_object()?;
            let name = props.get(&tag)?.get("const")?.as_str()?.to_string();
            let vat = format!("{at}.{name}");
            let required: BTreeSet<&str> = obj
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields: Vec<Field> = props
                .iter()
                .filter(|(k, _)| **k != tag)
                .map(|(k, s)| self.field(k, s, !required.contains(k.as_str()), &format!("{vat}.{k}")))
                .collect();
            let payload = match obj.get("$ref") {
                Some(r) if fields.is_empty() => Payload::Value(self.reference(r, &vat)),
                Some(r) => {
                    let target = self.reference(r, &vat);
                    Payload::Value(Type::AllOf(vec![target, Type::Object(Object { fields, additional: None })]))
                }
                None if fields.is_empty() => Payload::Unit,
                None => Payload::Fields(fields),
            };
            variants.push(Variant { name, description: description(m), payload });
        }
        Some(Tagged { tagging: Tagging::Internal { tag }, variants })
    }

    /// A variant's payload: inline objects become fields, anything else a value.
    fn payload(&mut self, schema: &Value, at: &str) -> Payload {
        let inline_object = schema.get("$ref").is_none()
            && schema.get("type").and_then(Value::as_str) == Some("object")
            && schema.get("properties").is_some()
            && schema.get("oneOf").is_none()
            && schema.get("anyOf").is_none();
        match self.ty(schema, at) {
            Type::Object(o) if inline_object && o.additional.is_none() => Payload::Fields(o.fields),
            t => Payload::Value(t),
        }
    }
}

/// The property that every member has as a required string constant, if there is one.
fn common_tag(members: &[&Value]) -> Option<String> {
    let first = members.first()?;
    let candidates = first.get("properties")?.as_object()?;
    'candidates: for (key, _) in candidates {
        for m in members {
            let is_tag = m
                .get("properties")
                .and_then(|p| p.get(key))
                .and_then(|p| p.get("const"))
                .is_some_and(Value::is_string)
                && m.get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key)));
            if !is_tag {
                continue 'candidates;
            }
        }
        return Some(key.clone());
    }
    None
}

/// The values of a schema that admits only a few strings (`const` or `enum`).
fn string_values(schema: &Value) -> Option<Vec<EnumValue>> {
    let obj = schema.as_object()?;
    if obj.keys().any(|k| !ANNOTATIONS.contains(&k.as_str()) && !["type", "const", "enum"].contains(&k.as_str())) {
        return None;
    }
    if obj.get("type").is_some_and(|t| t != "string") {
        return None;
    }
    let description = description(schema);
    if let Some(c) = obj.get("const") {
        return Some(vec![EnumValue { value: c.as_str()?.to_string(), description }]);
    }
    let values = obj.get("enum")?.as_array()?;
    let single = values.len() == 1;
    values
        .iter()
        .map(|v| {
            Some(EnumValue {
                value: v.as_str()?.to_string(),
                description: if single { description.clone() } else { None },
            })
        })
        .collect()
}

fn unit_enum(members: &[&Value]) -> Option<Vec<EnumValue>> {
    let mut out = vec![];
    for m in members {
        out.extend(string_values(m)?);
    }
    Some(out)
}

fn literal(v: &Value) -> Option<Literal> {
    match v {
        Value::String(s) => Some(Literal::String(s.clone())),
        Value::Number(n) => Some(Literal::Number(n.clone())),
        Value::Bool(b) => Some(Literal::Bool(*b)),
        _ => None,
    }
}

/// The width of an integer `format` as schemars writes it (`int8` ... `uint128`, and
/// `int`/`uint` for `isize`/`usize`, taken as 64 bits).
fn int_format(format: &str) -> Option<IntFormat> {
    let (signed, bits) = match format.strip_prefix('u') {
        Some(rest) => (false, rest.strip_prefix("int")?),
        None => (true, format.strip_prefix("int")?),
    };
    let bits = match bits {
        "" => 64,
        b => b.parse().ok().filter(|b| [8, 16, 32, 64, 128].contains(b))?,
    };
    Some(IntFormat { signed, bits: Some(bits) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(schema: Value) -> Result<Type, Vec<MapError>> {
        let defs = Map::new();
        let mut cx = Mapper { defs: &defs, errors: vec![] };
        let t = cx.ty(&schema, "x");
        if cx.errors.is_empty() {
            Ok(t)
        } else {
            Err(cx.errors)
        }
    }

    #[test]
    fn integer_widths() {
        assert_eq!(int_format("uint"), Some(IntFormat { signed: false, bits: Some(64) }));
        assert_eq!(int_format("int32"), Some(IntFormat { signed: true, bits: Some(32) }));
        assert_eq!(int_format("int7"), None);
        assert!(map(json!({"type": "integer", "format": "int256"})).is_err());
    }

    #[test]
    fn refuses_what_it_cannot_map() {
        assert!(map(json!({"not": {"type": "string"}})).is_err());
        assert!(map(json!({"$ref": "#/$defs/Missing"})).is_err());
        assert!(map(json!({"$ref": "https://example.com/x.json"})).is_err());
        assert!(map(json!({"type": "date"})).is_err());
    }

    #[test]
    fn nullable_forms() {
        let t = map(json!({"anyOf": [{"type": "string"}, {"type": "null"}]})).unwrap();
        assert_eq!(t, Type::Nullable(Box::new(Type::String)));
        let t = map(json!({"type": ["string", "null"]})).unwrap();
        assert_eq!(t, Type::Nullable(Box::new(Type::String)));
    }
}
