//! What the console knows from the server's schema (`volley.introspect`): the methods
//! with their shapes and parameters, topics, states; and the check of parameters against
//! a method's JSON Schema before anything is sent.
//!
//! The check is the console's own, not a full JSON Schema validator: it catches what a
//! person typing gets wrong (a missing required parameter, an unknown one, a value of
//! the wrong JSON type, at any depth, following `$ref` into `$defs`, through `anyOf` and
//! `oneOf`); the server still validates everything else (ranges, lengths, patterns).

use serde_json::{Map, Value};

/// A method the server serves.
#[derive(Debug, Clone)]
pub struct MethodInfo {
    /// Its name.
    pub name: String,
    /// `unary`, `server_stream`, `client_stream` or `bidi_stream`.
    pub kind: String,
    /// The parameters' object schema.
    pub params: Value,
    /// The schema of the items the caller streams, for client and bidi streams.
    pub input: Value,
}

impl MethodInfo {
    /// The parameters' names, in the schema's order.
    pub fn param_names(&self, schema: &Schema) -> Vec<String> {
        schema.resolve(&self.params)["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default()
    }
}

/// The schema, read for the console.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The document as the server sent it.
    pub doc: Value,
    /// Methods the server serves.
    pub methods: Vec<MethodInfo>,
    /// Topics and whether clients publish them (`true`) or the server does.
    pub topics: Vec<(String, bool)>,
    /// Shared states.
    pub states: Vec<String>,
}

impl Schema {
    /// Reads an introspection document.
    pub fn new(doc: Value) -> Schema {
        let list = |key: &str| doc[key].as_array().cloned().unwrap_or_default();
        let methods = list("methods")
            .iter()
            .filter(|m| m["side"] != "client")
            .filter_map(|m| {
                Some(MethodInfo {
                    name: m["name"].as_str()?.to_owned(),
                    kind: m["kind"].as_str().unwrap_or("unary").to_owned(),
                    params: m["params"].clone(),
                    input: m["input"].clone(),
                })
            })
            .collect();
        let topics = list("topics").iter().filter_map(|t| Some((t["name"].as_str()?.to_owned(), t["publisher"] == "client"))).collect();
        let states = list("states").iter().filter_map(|s| s["name"].as_str().map(str::to_owned)).collect();
        Schema { doc, methods, topics, states }
    }

    /// The method called `name`.
    pub fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// A topic's payload schema.
    pub fn topic_payload(&self, name: &str) -> Value {
        self.doc["topics"].as_array().and_then(|ts| ts.iter().find(|t| t["name"] == name)).map(|t| t["payload"].clone()).unwrap_or(Value::Bool(true))
    }

    /// Follows `$ref`s (`#/$defs/Name`) to the schema they name.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => match self.doc["$defs"].get(name) {
                    Some(def) => schema = def,
                    None => return &Value::Bool(true),
                },
                None => return schema,
            }
        }
        schema
    }

    /// Builds a call's parameters from `key=value` pairs: each value is JSON when it
    /// parses, else a string; a parameter whose schema is a string keeps the text as
    /// typed (`name=007`).
    pub fn pairs_to_params(&self, method: &MethodInfo, pairs: &[(String, String)]) -> Value {
        let props = self.resolve(&method.params)["properties"].clone();
        let mut out = Map::new();
        for (k, raw) in pairs {
            let wants_string = props.get(k).map(|s| self.resolve(s)["type"] == "string").unwrap_or(false);
            let parsed = super::commands::json_or_text(raw);
            let value = if wants_string && !parsed.is_string() { Value::String(raw.clone()) } else { parsed };
            out.insert(k.clone(), value);
        }
        Value::Object(out)
    }

    /// What is wrong with `params` for `method`, one sentence per problem naming the
    /// parameter; empty when nothing is.
    pub fn check_params(&self, method: &MethodInfo, params: &Value) -> Vec<String> {
        let mut problems = vec![];
        let Some(given) = params.as_object() else {
            return vec![format!("the parameters must be a JSON object, as in {} {{\"a\": 1}}", method.name)];
        };
        let schema = self.resolve(&method.params);
        let empty = Map::new();
        let props = schema["properties"].as_object().unwrap_or(&empty);
        for key in given.keys() {
            if !props.contains_key(key) {
                let names: Vec<&str> = props.keys().map(String::as_str).collect();
                let mut p = format!("unknown parameter `{key}`");
                match crate::suggest::closest(key, names.iter().copied()).first() {
                    Some(near) => p.push_str(&format!("; did you mean `{near}`?")),
                    None if names.is_empty() => p.push_str(&format!(" (`{}` takes none)", method.name)),
                    None => p.push_str(&format!(" (the parameters are {})", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))),
                }
                problems.push(p);
            }
        }
        for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !given.contains_key(req) {
                problems.push(format!("missing required parameter `{req}`"));
            }
        }
        for (key, value) in given {
            if let Some(s) = props.get(key) {
                self.check_value(key, s, value, &mut problems, 0);
            }
        }
        problems
    }

    /// Checks one value (an item to stream, a notification) against `schema`.
    pub fn check_item(&self, what: &str, schema: &Value, value: &Value) -> Vec<String> {
        let mut problems = vec![];
        self.check_value(what, schema, value, &mut problems, 0);
        problems
    }

    fn check_value(&self, path: &str, schema: &Value, v: &Value, problems: &mut Vec<String>, depth: usize) {
        if depth > 64 {
            return;
        }
        let schema = self.resolve(schema);
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema[key].as_array() {
                let fits = branches.iter().any(|b| {
                    let mut p = vec![];
                    self.check_value(path, b, v, &mut p, depth + 1);
                    p.is_empty()
                });
                if !fits {
                    let expected: Vec<String> = branches.iter().map(|b| self.expected(b)).collect();
                    problems.push(format!("`{path}`: expected {}, got {}", expected.join(" or "), json_type(v)));
                    return;
                }
            }
        }
        for b in schema["allOf"].as_array().into_iter().flatten() {
            self.check_value(path, b, v, problems, depth + 1);
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| has_type(v, t)) {
            problems.push(format!("`{path}`: expected {}, got {}", types.join(" or "), json_type(v)));
            return;
        }
        if let Some(c) = schema.get("const") {
            if c != v {
                problems.push(format!("`{path}`: expected {c}, got {v}"));
                return;
            }
        }
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(v) {
                let list: Vec<String> = options.iter().map(Value::to_string).collect();
                problems.push(format!("`{path}`: expected one of {}, got {v}", list.join(", ")));
                return;
            }
        }
        if let Some(obj) = v.as_object() {
            let props = schema["properties"].as_object();
            for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !obj.contains_key(req) {
                    problems.push(format!("`{path}.{req}`: missing"));
                }
            }
            for (k, item) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.check_value(&format!("{path}.{k}"), s, item, problems, depth + 1),
                    None => match &schema["additionalProperties"] {
                        Value::Bool(false) => problems.push(format!("`{path}.{k}`: unknown field")),
                        Value::Object(_) => self.check_value(&format!("{path}.{k}"), &schema["additionalProperties"], item, problems, depth + 1),
                        _ => {}
                    },
                }
            }
        }
        if let Some(items) = v.as_array() {
            let prefix = schema["prefixItems"].as_array();
            for (i, item) in items.iter().enumerate() {
                let s = match prefix.and_then(|p| p.get(i)) {
                    Some(s) => s,
                    None if schema["items"].is_object() => &schema["items"],
                    None => continue,
                };
                self.check_value(&format!("{path}[{i}]"), s, item, problems, depth + 1);
            }
        }
    }

    /// A schema's expected form in a word or two, for messages.
    fn expected(&self, schema: &Value) -> String {
        let s = self.resolve(schema);
        if let Some(c) = s.get("const") {
            return c.to_string();
        }
        match &s["type"] {
            Value::String(t) => t.clone(),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
            _ => schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")).unwrap_or("a value of another form").to_owned(),
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => true,
    }
}

/// A value's JSON type, for messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::new(json!({
            "methods": [{"name": "add", "kind": "unary", "side": "server",
                "params": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"$ref": "#/$defs/B"}}, "required": ["a", "b"]}}],
            "$defs": {"B": {"type": "object", "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}, "required": ["n"]}}
        }))
    }

    #[test]
    fn the_three_mistakes_are_named() {
        let s = schema();
        let m = s.method("add").unwrap();
        assert!(s.check_params(m, &json!({"a": 1, "b": {"n": null}})).is_empty());
        assert_eq!(s.check_params(m, &json!({"a": 1})), ["missing required parameter `b`"]);
        assert_eq!(s.check_params(m, &json!({"a": 1, "b": {"n": 1}, "c": 2})), ["unknown parameter `c` (the parameters are `a`, `b`)"]);
        assert_eq!(s.check_params(m, &json!({"a": "x", "b": {"n": "y"}})), ["`a`: expected integer, got string", "`b.n`: expected integer or null, got string"]);
        assert_eq!(s.check_params(m, &json!({"a": 1, "b": {}})), ["`b.n`: missing"]);
    }
}
