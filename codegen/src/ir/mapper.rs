//! JSON Schema, as schemars 1.x writes it, read into [`Type`]s: references, constants,
//! enums, unions, objects, arrays, tuples and integer widths. Keywords that describe a
//! value are skipped, keywords that cannot be a type are reported with where they sit.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use super::serde_tagging::unit_enum;
use super::types::*;

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


/// A description, or `None` when it is empty.
pub(super) fn clean(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

pub(super) fn description(schema: &Value) -> Option<String> {
    clean(schema.get("description").and_then(Value::as_str).unwrap_or(""))
}

/// Keys that describe a value without changing its shape.
pub(super) const ANNOTATIONS: &[&str] = &[
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

/// Reads schemas into types, collecting every problem instead of stopping at the first.
pub(super) struct Mapper<'a> {
    pub(super) defs: &'a Map<String, Value>,
    pub(super) errors: Vec<MapError>,
}

impl Mapper<'_> {
    pub(super) fn error(&mut self, at: &str, message: String) {
        self.errors.push(MapError { at: at.to_string(), message });
    }

    pub(super) fn ty(&mut self, schema: &Value, at: &str) -> Type {
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
        if self.unmappable_keyword(obj, at) {
            return Type::Any;
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
        self.by_type(obj, at)
    }

    /// Reports a keyword that cannot be a type (`not`, `if`, ...); unknown keys are
    /// ignored (PROTOCOL.md section 9).
    fn unmappable_keyword(&mut self, obj: &Map<String, Value>, at: &str) -> bool {
        for key in obj.keys() {
            if ANNOTATIONS.contains(&key.as_str()) || STRUCTURAL.contains(&key.as_str()) || key.starts_with("x-") {
                continue;
            }
            if matches!(
                key.as_str(),
                "not" | "if" | "then" | "else" | "patternProperties" | "dependentSchemas"
                    | "dependentRequired" | "$dynamicRef" | "propertyNames" | "contains"
                    | "unevaluatedProperties" | "unevaluatedItems"
            ) {
                self.error(at, format!("the JSON Schema keyword `{key}` cannot be mapped to a type"));
                return true;
            }
        }
        false
    }

    /// A schema by its `type`: one name, a list (with `null` making it nullable), or
    /// none, then guessed from `properties` or `items`.
    fn by_type(&mut self, obj: &Map<String, Value>, at: &str) -> Type {
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

    pub(super) fn reference(&mut self, r: &Value, at: &str) -> Type {
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

    pub(super) fn field(&mut self, name: &str, schema: &Value, optional: bool, at: &str) -> Field {
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

