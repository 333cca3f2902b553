//! Comparing two JSON Schemas (as schemars writes them for serde types) in the
//! direction their values flow.
//!
//! [`Flow::Input`] is what clients send (parameters, items of client streams, events,
//! notifications they publish): the new schema must accept every value the old one
//! did. [`Flow::Output`] is what clients receive (results, stream items, topics, states,
//! errors): every value the new schema allows must fit the old one. References to
//! `$defs` are followed on both sides, once per pair of names, so recursive types end.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::{Change, Rule};

/// Which way a value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Flow {
    /// Clients send it.
    Input,
    /// Clients receive it.
    Output,
}

impl Flow {
    /// The other direction: what the server sends to a method its clients serve is
    /// the clients' input.
    pub(super) fn reversed(self) -> Flow {
        match self {
            Flow::Input => Flow::Output,
            Flow::Output => Flow::Input,
        }
    }
}

/// Compares the types of one subject (a method, topic, state or machine).
pub(super) struct TypeDiff<'a> {
    old_defs: &'a Map<String, Value>,
    new_defs: &'a Map<String, Value>,
    subject: String,
    seen: HashSet<(String, String, Flow)>,
    pub(super) changes: Vec<Change>,
}

impl<'a> TypeDiff<'a> {
    pub(super) fn new(old_defs: &'a Map<String, Value>, new_defs: &'a Map<String, Value>, subject: &str) -> Self {
        TypeDiff { old_defs, new_defs, subject: subject.to_owned(), seen: HashSet::new(), changes: Vec::new() }
    }

    fn push(&mut self, rule: Rule, path: &str, message: String) {
        self.changes.push(Change { rule, subject: self.subject.clone(), path: path.to_owned(), message });
    }

    /// Compares `old` and `new` at `path`, recording every change.
    pub(super) fn compare(&mut self, old: &Value, new: &Value, flow: Flow, path: &str) {
        if old.is_null() && new.is_null() {
            return;
        }
        let Some((old, new)) = self.enter(old, new, flow) else { return };
        // `true` and `{}` accept anything.
        match (is_any(&old), is_any(&new)) {
            (true, true) => return,
            (false, true) => {
                let (rule, message) = match flow {
                    Flow::Input => (Rule::TypeRelaxed, format!("now accepts any value, was {}", summary(&old))),
                    Flow::Output => (Rule::TypeChanged, format!("may now be any value, was {}", summary(&old))),
                };
                return self.push(rule, path, message);
            }
            (true, false) => {
                let (rule, message) = match flow {
                    Flow::Input => (Rule::TypeChanged, format!("accepted any value, now only {}", summary(&new))),
                    Flow::Output => (Rule::TypeRelaxed, format!("was any value, now always {}", summary(&new))),
                };
                return self.push(rule, path, message);
            }
            (false, false) => {}
        }
        let (old_null, old) = split_null(&old, self.old_defs);
        let (new_null, new) = split_null(&new, self.new_defs);
        // `Option<Named>` leaves a reference to follow.
        let Some((old, new)) = self.enter(&Value::Object(old), &Value::Object(new), flow) else { return };
        match (old_null, new_null, flow) {
            (false, true, Flow::Output) => self.push(Rule::MadeNullable, path, "may now be null".into()),
            (true, false, Flow::Input) => self.push(Rule::TypeChanged, path, "no longer accepts null".into()),
            (false, true, Flow::Input) => self.push(Rule::TypeRelaxed, path, "now also accepts null".into()),
            (true, false, Flow::Output) => self.push(Rule::TypeRelaxed, path, "is never null now".into()),
            _ => {}
        }
        if only_null(&old) || only_null(&new) {
            if only_null(&old) != only_null(&new) {
                let message = format!("was {}, now {}", summary(&old), summary(&new));
                self.push(Rule::TypeChanged, path, message);
            }
            return;
        }
        let (old_variants, new_variants) = (variants(&old), variants(&new));
        match (&old_variants, &new_variants) {
            (Some(o), Some(n)) => self.compare_variants(o, n, flow, path),
            (None, None) => {}
            _ => {
                let message = format!("was {}, now {}", summary(&old), summary(&new));
                return self.push(Rule::TypeChanged, path, message);
            }
        }
        if old_variants.is_some() && !has_structure(&old) && !has_structure(&new) {
            return;
        }
        let (old_types, new_types) = (types(&old), types(&new));
        if old_types != new_types {
            let fits = |narrow: &BTreeSet<&str>, wide: &BTreeSet<&str>| {
                narrow.iter().all(|t| wide.contains(t) || (*t == "integer" && wide.contains("number")))
            };
            let compatible = match flow {
                Flow::Input => fits(&old_types, &new_types),
                Flow::Output => fits(&new_types, &old_types),
            };
            let message = format!("was {}, now {}", summary(&old), summary(&new));
            if !compatible {
                return self.push(Rule::TypeChanged, path, message);
            }
            self.push(Rule::TypeRelaxed, path, message);
        } else {
            self.compare_bounds(&old, &new, flow, path);
        }
        if old_types.contains("object") || new_types.contains("object") {
            self.compare_objects(&old, &new, flow, path);
        }
        if old_types.contains("array") || new_types.contains("array") {
            self.compare_arrays(&old, &new, flow, path);
        }
    }

    /// Resolves both sides; `None` when this pair of definitions was already compared
    /// in this direction (it is being compared further up, or was already reported).
    fn enter(&mut self, old: &Value, new: &Value, flow: Flow) -> Option<(Map<String, Value>, Map<String, Value>)> {
        let (old, old_name) = resolve(old, self.old_defs);
        let (new, new_name) = resolve(new, self.new_defs);
        if let (Some(o), Some(n)) = (old_name, new_name) {
            if !self.seen.insert((o, n, flow)) {
                return None;
            }
        }
        Some((old, new))
    }

    fn compare_variants(&mut self, old: &[Variant], new: &[Variant], flow: Flow, path: &str) {
        for o in old {
            match new.iter().find(|n| n.key == o.key) {
                None => {
                    let who = match flow {
                        Flow::Input => "clients sending it are refused",
                        Flow::Output => "code handling it no longer type-checks",
                    };
                    self.push(Rule::VariantRemoved, path, format!("variant `{}` removed: {who}", o.key));
                }
                Some(n) => {
                    if let (Some(os), Some(ns)) = (o.schema, n.schema) {
                        self.compare(os, ns, flow, &format!("{path}({})", o.key));
                    }
                }
            }
        }
        for n in new.iter().filter(|n| !old.iter().any(|o| o.key == n.key)) {
            match flow {
                Flow::Input => self.push(Rule::InputVariantAdded, path, format!("variant `{}` added", n.key)),
                Flow::Output => self.push(
                    Rule::OutputVariantAdded,
                    path,
                    format!("variant `{}` added: existing clients do not know it", n.key),
                ),
            }
        }
    }

    fn compare_objects(&mut self, old: &Map<String, Value>, new: &Map<String, Value>, flow: Flow, path: &str) {
        let empty = Map::new();
        let old_props = old.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let new_props = new.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let (old_req, new_req) = (required(old), required(new));
        // The top level of a method's parameters reads better as "parameter".
        let noun = if path == "params" { "parameter" } else { "field" };
        for (name, old_schema) in old_props {
            let at = join(path, name);
            let Some(new_schema) = new_props.get(name) else {
                let why = match flow {
                    Flow::Input => "code passing it no longer type-checks",
                    Flow::Output => "clients reading it get nothing",
                };
                self.push(Rule::FieldRemoved, &at, format!("{noun} `{name}` removed: {why}"));
                continue;
            };
            match (old_req.contains(name.as_str()), new_req.contains(name.as_str()), flow) {
                (true, false, Flow::Output) => self.push(Rule::FieldMadeOptional, &at, format!("{noun} `{name}` may now be left out")),
                (false, true, Flow::Input) => self.push(Rule::FieldMadeRequired, &at, format!("{noun} `{name}` is now required")),
                (true, false, Flow::Input) => self.push(Rule::RequirementRelaxed, &at, format!("{noun} `{name}` may now be left out")),
                (false, true, Flow::Output) => self.push(Rule::RequirementRelaxed, &at, format!("{noun} `{name}` is now always present")),
                _ => {}
            }
            self.compare(old_schema, new_schema, flow, &at);
        }
        for (name, _) in new_props.iter().filter(|(name, _)| !old_props.contains_key(*name)) {
            let at = join(path, name);
            match (flow, new_req.contains(name.as_str())) {
                (Flow::Input, true) => self.push(
                    Rule::RequiredFieldAdded,
                    &at,
                    format!("{noun} `{name}` added without a default: existing calls leave it out"),
                ),
                (Flow::Input, false) => self.push(Rule::OptionalFieldAdded, &at, format!("optional {noun} `{name}` added")),
                (Flow::Output, _) => self.push(Rule::FieldAdded, &at, format!("{noun} `{name}` added")),
            }
        }
        // Maps: the values' type.
        if let (Some(o), Some(n)) = (old.get("additionalProperties"), new.get("additionalProperties")) {
            if o.is_object() && n.is_object() {
                self.compare(o, n, flow, &format!("{path}{{}}"));
            }
        }
    }

    fn compare_arrays(&mut self, old: &Map<String, Value>, new: &Map<String, Value>, flow: Flow, path: &str) {
        match (old.get("prefixItems").and_then(Value::as_array), new.get("prefixItems").and_then(Value::as_array)) {
            (Some(o), Some(n)) if o.len() == n.len() => {
                for (i, (o, n)) in o.iter().zip(n).enumerate() {
                    self.compare(o, n, flow, &format!("{path}[{i}]"));
                }
            }
            (None, None) => {
                if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
                    self.compare(o, n, flow, &format!("{path}[]"));
                }
            }
            _ => {
                let message = format!("was {}, now {}", summary(old), summary(new));
                self.push(Rule::TypeChanged, path, message);
            }
        }
    }

    /// Numeric ranges (explicit, or implied by an integer `format`) and string lengths.
    fn compare_bounds(&mut self, old: &Map<String, Value>, new: &Map<String, Value>, flow: Flow, path: &str) {
        for (what, bounds) in [("values", numeric_bounds as fn(&Map<String, Value>) -> Bounds), ("lengths", length_bounds)] {
            let (o, n) = (bounds(old), bounds(new));
            if o == n {
                continue;
            }
            let (narrow, wide) = match flow {
                Flow::Input => (o, n),
                Flow::Output => (n, o),
            };
            let rule = if wide.contains(&narrow) { Rule::TypeRelaxed } else { Rule::TypeChanged };
            self.push(rule, path, format!("{what} were {}, now {}", o.describe(), n.describe()));
        }
        if old.get("pattern") != new.get("pattern") && old.get("type") == new.get("type") {
            let message = match new.get("pattern") {
                Some(p) => format!("must now match {p}"),
                None => "no longer has a pattern".into(),
            };
            let rule = if new.get("pattern").is_none() && flow == Flow::Input { Rule::TypeRelaxed } else { Rule::TypeChanged };
            self.push(rule, path, message);
        }
    }
}

/// A variant of an enum: a tag (`"Circle"`, `"red"`) and, for variants with data,
/// the schema of that variant.
struct Variant<'a> {
    key: String,
    schema: Option<&'a Value>,
}

/// The variants of `schema` when it is an enum: string enums and constants, and serde's
/// externally, internally and adjacently tagged enums written as `oneOf`. Untagged
/// enums (`anyOf`) are matched by position.
fn variants(schema: &Map<String, Value>) -> Option<Vec<Variant<'_>>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().map(|v| Variant { key: value_key(v), schema: None }).collect());
    }
    if let Some(c) = schema.get("const") {
        return Some(vec![Variant { key: value_key(c), schema: None }]);
    }
    let (list, tagged) = match (schema.get("oneOf"), schema.get("anyOf")) {
        (Some(Value::Array(l)), _) => (l, true),
        (_, Some(Value::Array(l))) => (l, false),
        _ => return None,
    };
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let keys = if tagged { entry_keys(entry) } else { Vec::new() };
        if keys.is_empty() {
            out.push(Variant { key: format!("#{i}"), schema: Some(entry) });
        }
        for (key, has_data) in keys {
            out.push(Variant { key, schema: has_data.then_some(entry) });
        }
    }
    Some(out)
}

/// The tags one `oneOf` entry stands for, and whether it carries data.
fn entry_keys(entry: &Value) -> Vec<(String, bool)> {
    let Some(map) = entry.as_object() else { return Vec::new() };
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        return values.iter().map(|v| (value_key(v), false)).collect();
    }
    if let Some(c) = map.get("const") {
        return vec![(value_key(c), false)];
    }
    let Some(props) = map.get("properties").and_then(Value::as_object) else { return Vec::new() };
    // Internally or adjacently tagged: a property holding a constant.
    if let Some(tag) = props.values().find_map(|p| p.get("const")) {
        return vec![(value_key(tag), true)];
    }
    // Externally tagged: `{"Variant": data}` and nothing else.
    if props.len() == 1 && map.get("additionalProperties") == Some(&Value::Bool(false)) {
        return vec![(props.keys().next().cloned().unwrap_or_default(), true)];
    }
    Vec::new()
}

fn value_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Follows `$ref` (keeping the keys written beside it, as schemars does for flattened
/// variants) and returns the schema as an object, with the name of the definition it
/// came from.
fn resolve(schema: &Value, defs: &Map<String, Value>) -> (Map<String, Value>, Option<String>) {
    let mut map = match schema {
        Value::Object(m) => m.clone(),
        Value::Bool(true) => Map::new(),
        // `false` accepts nothing: an impossible type, kept as such.
        other => Map::from_iter([("not".to_owned(), other.clone())]),
    };
    let mut name = None;
    for _ in 0..32 {
        let Some(Value::String(r)) = map.remove("$ref") else { break };
        let def = r.strip_prefix("#/$defs/").map(str::to_owned);
        let target = def.as_deref().and_then(|d| defs.get(d)).and_then(Value::as_object).cloned().unwrap_or_default();
        name = name.or(def);
        let siblings = std::mem::replace(&mut map, target);
        for (key, value) in siblings {
            match (key.as_str(), map.get_mut(&key), value) {
                ("properties", Some(Value::Object(into)), Value::Object(from)) => into.extend(from),
                ("required", Some(Value::Array(into)), Value::Array(from)) => into.extend(from),
                (_, _, value) => {
                    map.insert(key, value);
                }
            }
        }
    }
    (map, name)
}

fn is_any(schema: &Map<String, Value>) -> bool {
    schema.keys().all(|k| matches!(k.as_str(), "description" | "title" | "default" | "examples" | "deprecated"))
}

/// Whether the schema allows null, and the schema of its other values.
fn split_null(schema: &Map<String, Value>, defs: &Map<String, Value>) -> (bool, Map<String, Value>) {
    let mut schema = schema.clone();
    let mut nullable = false;
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        let before = types.len();
        types.retain(|t| t != "null");
        nullable = types.len() < before;
        if types.len() == 1 {
            let single = types.remove(0);
            schema.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(options)) = schema.get("anyOf") {
        let is_null = |v: &Value| resolve(v, defs).0.get("type") == Some(&Value::String("null".into()));
        if options.iter().any(is_null) && options.len() > 1 {
            let rest: Vec<Value> = options.iter().filter(|v| !is_null(v)).cloned().collect();
            nullable = true;
            schema.remove("anyOf");
            if let [Value::Object(only)] = rest.as_slice() {
                for (k, v) in only {
                    schema.entry(k.clone()).or_insert(v.clone());
                }
            } else {
                schema.insert("anyOf".into(), Value::Array(rest));
            }
        }
    }
    (nullable, schema)
}

fn only_null(schema: &Map<String, Value>) -> bool {
    schema.get("type") == Some(&Value::String("null".into()))
}

/// Whether an enum's schema also describes structure (a flattened enum's fields).
fn has_structure(schema: &Map<String, Value>) -> bool {
    schema.contains_key("properties") || schema.contains_key("items")
}

/// The JSON types a schema allows (`null` aside), inferred from its keywords when
/// `type` is not written.
fn types(schema: &Map<String, Value>) -> BTreeSet<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => BTreeSet::from([t.as_str()]),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ if schema.contains_key("properties") || schema.contains_key("additionalProperties") => BTreeSet::from(["object"]),
        _ if schema.contains_key("items") || schema.contains_key("prefixItems") => BTreeSet::from(["array"]),
        _ => BTreeSet::new(),
    }
}

fn required(schema: &Map<String, Value>) -> BTreeSet<&str> {
    schema.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// An inclusive range; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    low: Option<f64>,
    high: Option<f64>,
}

impl Bounds {
    fn contains(&self, inner: &Bounds) -> bool {
        let low = match (self.low, inner.low) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a <= b,
        };
        let high = match (self.high, inner.high) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        };
        low && high
    }

    fn describe(&self) -> String {
        let end = |b: Option<f64>| b.map(|v| v.to_string()).unwrap_or_default();
        match (self.low, self.high) {
            (None, None) => "unbounded".into(),
            _ => format!("{}..={}", end(self.low), end(self.high)),
        }
    }
}

fn numeric_bounds(schema: &Map<String, Value>) -> Bounds {
    let (mut low, mut high) = match schema.get("format").and_then(Value::as_str) {
        Some("int8") => (Some(i8::MIN as f64), Some(i8::MAX as f64)),
        Some("uint8") => (Some(0.0), Some(u8::MAX as f64)),
        Some("int16") => (Some(i16::MIN as f64), Some(i16::MAX as f64)),
        Some("uint16") => (Some(0.0), Some(u16::MAX as f64)),
        Some("int32") => (Some(i32::MIN as f64), Some(i32::MAX as f64)),
        Some("uint32") => (Some(0.0), Some(u32::MAX as f64)),
        Some("int64" | "int") => (Some(i64::MIN as f64), Some(i64::MAX as f64)),
        Some("uint64" | "uint") => (Some(0.0), Some(u64::MAX as f64)),
        _ => (None, None),
    };
    if let Some(m) = schema.get("minimum").and_then(Value::as_f64) {
        low = Some(low.map_or(m, |l| l.max(m)));
    }
    if let Some(m) = schema.get("maximum").and_then(Value::as_f64) {
        high = Some(high.map_or(m, |h| h.min(m)));
    }
    Bounds { low, high }
}

fn length_bounds(schema: &Map<String, Value>) -> Bounds {
    let get = |k: &str| schema.get(k).and_then(Value::as_f64);
    let low = get("minLength").or(get("minItems")).filter(|l| *l > 0.0);
    Bounds { low, high: get("maxLength").or(get("maxItems")) }
}

/// A short description of a type for messages: `string`, `integer (uint32)`,
/// `one of red, green`, `object`.
fn summary(schema: &Map<String, Value>) -> String {
    if let Some(vs) = variants(schema) {
        let keys: Vec<String> = vs.into_iter().map(|v| v.key).collect();
        return format!("one of {}", keys.join(", "));
    }
    let types: Vec<&str> = types(schema).into_iter().collect();
    let base = if types.is_empty() { "any value".to_owned() } else { types.join(" | ") };
    match schema.get("format").and_then(Value::as_str) {
        Some(f) => format!("{base} ({f})"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(old: Value, new: Value, flow: Flow) -> Vec<(Rule, String)> {
        let (od, nd) = (Map::new(), Map::new());
        let mut d = TypeDiff::new(&od, &nd, "m");
        d.compare(&old, &new, flow, "result");
        d.changes.into_iter().map(|c| (c.rule, c.path)).collect()
    }

    #[test]
    fn integers_narrow_safely_into_numbers_only_one_way() {
        let (int, num) = (json!({"type": "integer"}), json!({"type": "number"}));
        assert_eq!(run(num.clone(), int.clone(), Flow::Output), [(Rule::TypeRelaxed, "result".into())]);
        assert_eq!(run(num.clone(), int.clone(), Flow::Input), [(Rule::TypeChanged, "result".into())]);
        assert_eq!(run(int, num, Flow::Input), [(Rule::TypeRelaxed, "result".into())]);
    }

    #[test]
    fn a_wider_integer_format_breaks_outputs_and_relaxes_inputs() {
        let (small, big) = (json!({"type": "integer", "format": "uint16"}), json!({"type": "integer", "format": "uint32"}));
        assert_eq!(run(small.clone(), big.clone(), Flow::Output)[0].0, Rule::TypeChanged);
        assert_eq!(run(small, big, Flow::Input)[0].0, Rule::TypeRelaxed);
    }

    #[test]
    fn option_is_nullable_not_a_variant() {
        let old = json!({"type": "string"});
        let new = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert_eq!(run(old.clone(), new.clone(), Flow::Output), [(Rule::MadeNullable, "result".into())]);
        assert_eq!(run(old, new, Flow::Input), [(Rule::TypeRelaxed, "result".into())]);
    }

    #[test]
    fn recursive_definitions_are_compared_once() {
        let tree = json!({"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}, "required": ["kids"]});
        let mut grown = tree.clone();
        grown["properties"]["name"] = json!({"type": "string"});
        let od = Map::from_iter([("Tree".to_owned(), tree)]);
        let nd = Map::from_iter([("Tree".to_owned(), grown)]);
        let mut d = TypeDiff::new(&od, &nd, "m");
        d.compare(&json!({"$ref": "#/$defs/Tree"}), &json!({"$ref": "#/$defs/Tree"}), Flow::Output, "result");
        let found: Vec<_> = d.changes.iter().map(|c| (c.rule, c.path.as_str())).collect();
        assert_eq!(found, [(Rule::FieldAdded, "result.name")]);
    }

    #[test]
    fn externally_tagged_variants_are_matched_by_tag() {
        let v = |tag: &str, t: &str| json!({"type": "object", "properties": {tag: {"type": t}}, "required": [tag], "additionalProperties": false});
        let old = json!({"oneOf": [{"const": "Empty"}, v("Square", "number")]});
        let new = json!({"oneOf": [v("Square", "string"), {"const": "Empty"}]});
        let found = run(old, new, Flow::Output);
        assert_eq!(found, [(Rule::TypeChanged, "result(Square).Square".into())]);
    }
}
