//! The introspection document (PROTOCOL.md section 9), built from a router. The
//! document's types are the `volley-schema` crate's, shared with the code generator.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::method::MethodDef;
use crate::protocol::{Encoding, ErrorCode, Shape};

pub use volley_schema::{ErrorDoc, EventDoc, MachineDoc, MachineStateDoc, MethodDoc, OperationDoc, SchemaDocument, Scope, Side, StateDoc, TopicDoc, SCHEMA_VERSION};

/// Who the service is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceInfo {
    /// Service name.
    pub name: String,
    /// Service version.
    pub version: String,
    /// What it does.
    pub description: String,
}

/// A topic's or state's entry in the document with the named types its schema
/// references, which the document lists once in `$defs`.
#[derive(Debug, Clone)]
pub(crate) struct Described<D> {
    pub doc: D,
    pub defs: serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/$defs".into();
    settings.into_generator()
}

/// The entry of a topic carrying `T`, published by `publisher`.
pub(crate) fn topic<T: JsonSchema + ?Sized>(name: &str, description: &str, publisher: Side) -> Described<TopicDoc> {
    let mut g = generator();
    let payload = g.subschema_for::<T>().to_value();
    let doc = TopicDoc { name: name.into(), description: description.into(), payload, publisher };
    Described { doc, defs: g.take_definitions(true) }
}

/// The entry of a shared state holding `T`, one for the server or one per connection.
pub(crate) fn state<T: JsonSchema>(name: &str, description: &str, scope: Scope) -> Described<StateDoc> {
    let mut g = generator();
    let schema = g.subschema_for::<T>().to_value();
    let doc = StateDoc { name: name.into(), description: description.into(), schema, scope };
    Described { doc, defs: g.take_definitions(true) }
}

/// Turns a doc comment's lines into a description: common indentation removed, trimmed.
pub fn clean_docs(docs: &str) -> String {
    let lines: Vec<&str> = docs.lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let body: Vec<&str> = lines.iter().map(|l| if l.len() >= indent { &l[indent..] } else { l.trim() }).collect();
    body.join("\n").trim().to_owned()
}

pub(crate) fn build<'a>(
    info: &ServiceInfo,
    methods: impl Iterator<Item = &'a MethodDef>,
    client_methods: impl Iterator<Item = &'a MethodDef>,
    topics: &[Described<TopicDoc>],
    states: &[Described<StateDoc>],
    machines: &[Described<MachineDoc>],
) -> SchemaDocument {
    let mut g = generator();
    let mut docs: Vec<MethodDoc> = methods.map(|m| m.describe(&mut g)).collect();
    docs.extend(client_methods.map(|m| MethodDoc { side: Side::Client, ..m.describe(&mut g) }));
    docs.push(introspect_doc(&mut g));
    docs.push(subscribe_doc(&mut g, "volley.subscribe", "Starts notifications for topics and state patches for shared states."));
    docs.push(subscribe_doc(&mut g, "volley.unsubscribe", "Stops notifications for topics and state patches for shared states."));
    docs.sort_by(|a, b| (a.side == Side::Client, &a.name).cmp(&(b.side == Side::Client, &b.name)));
    let mut defs = g.take_definitions(true);
    if docs.iter().any(|d| d.operation.is_some()) {
        docs.extend(operation_docs(&mut g));
    }
    if !machines.is_empty() {
        docs.push(machine_doc());
        docs.sort_by(|a, b| (a.side == Side::Client, &a.name).cmp(&(b.side == Side::Client, &b.name)));
    }
    for extra in topics.iter().map(|t| &t.defs).chain(states.iter().map(|s| &s.defs)).chain(machines.iter().map(|m| &m.defs)) {
        merge_defs(&mut defs, extra);
    }
    SchemaDocument {
        volley: SCHEMA_VERSION,
        name: info.name.clone(),
        version: info.version.clone(),
        description: info.description.clone(),
        encodings: [Encoding::Json, Encoding::MsgPack].iter().map(|e| e.subprotocol().to_owned()).collect(),
        methods: docs,
        topics: topics.iter().map(|t| t.doc.clone()).collect(),
        states: states.iter().map(|s| s.doc.clone()).collect(),
        machines: machines.iter().map(|m| m.doc.clone()).collect(),
        errors: ErrorCode::ALL
            .iter()
            .map(|(c, n, d)| ErrorDoc { code: c.0, name: (*n).to_owned(), description: (*d).to_owned() })
            .collect(),
        defs,
    }
}

/// Adds the named types of one topic or state to the document's.
///
/// # Panics
/// When two different types have the same name: the document would describe one of
/// them wrongly, so this is refused where the router is built, as a mistake in the
/// program (rename one with `#[schemars(rename = "..")]`).
fn merge_defs(defs: &mut serde_json::Map<String, serde_json::Value>, extra: &serde_json::Map<String, serde_json::Value>) {
    for (name, schema) in extra {
        match defs.get(name) {
            Some(existing) if existing != schema => panic!(
                "two different types are named `{name}` in the schema: rename one with #[schemars(rename = \"..\")]\n  one: {existing}\n  the other: {schema}"
            ),
            Some(_) => {}
            None => {
                defs.insert(name.clone(), schema.clone());
            }
        }
    }
}

fn introspect_doc(g: &mut SchemaGenerator) -> MethodDoc {
    MethodDoc {
        name: "volley.introspect".into(),
        description: "Returns this document.".into(),
        deprecated: None,
        side: Side::Server,
        kind: Shape::Unary,
        params: serde_json::json!({"type": "object", "properties": {}}),
        result: Some(g.subschema_for::<serde_json::Value>().to_value()),
        input: None,
        output: None,
        error: None,
        sequential: false,
        operation: None,
    }
}

/// The reserved methods of operations, listed when the service has operations.
fn operation_docs(g: &mut SchemaGenerator) -> Vec<MethodDoc> {
    let by_id = serde_json::json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]});
    let any = g.subschema_for::<serde_json::Value>().to_value();
    [
        ("volley.operation.get", "An operation: whether it is done, its latest progress, its result or error.", by_id.clone(), any.clone()),
        ("volley.operation.wait", "Waits for an operation to end; answers its result or fails with its error.", by_id.clone(), any.clone()),
        ("volley.operation.cancel", "Cancels a running operation: true, or false when it had already ended.", by_id, serde_json::json!({"type": "boolean"})),
        ("volley.operation.list", "The caller's operations, oldest first.", serde_json::json!({"type": "object", "properties": {}}), any),
    ]
    .into_iter()
    .map(|(name, description, params, result)| MethodDoc {
        name: name.into(),
        description: description.into(),
        deprecated: None,
        side: Side::Server,
        kind: Shape::Unary,
        params,
        result: Some(result),
        input: None,
        output: None,
        error: None,
        sequential: false,
        operation: None,
    })
    .collect()
}

/// `volley.machine`, listed when the service has machines.
fn machine_doc() -> MethodDoc {
    MethodDoc {
        name: "volley.machine".into(),
        description: "Where this connection's session of a machine is: its state and that state's events.".into(),
        deprecated: None,
        side: Side::Server,
        kind: Shape::Unary,
        params: serde_json::json!({"type": "object", "properties": {"machine": {"type": "string"}}, "required": ["machine"]}),
        result: Some(serde_json::json!({
            "type": "object",
            "properties": {"state": {"type": "string"}, "events": {"type": "array", "items": {"type": "string"}}},
            "required": ["state", "events"]
        })),
        input: None,
        output: None,
        error: None,
        sequential: false,
        operation: None,
    }
}

/// Parameters of `volley.subscribe` and `volley.unsubscribe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct SubscribeParams {
    /// Topic names; a name ending in `.*` matches every topic below that prefix.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Shared state names.
    #[serde(default)]
    pub states: Vec<String>,
}

impl crate::validate::Validate for SubscribeParams {
    fn validate(&self, _: &mut crate::validate::Violations) {}
}

fn subscribe_doc(g: &mut SchemaGenerator, name: &str, description: &str) -> MethodDoc {
    MethodDoc {
        name: name.into(),
        description: description.into(),
        deprecated: None,
        side: Side::Server,
        kind: Shape::Unary,
        params: SubscribeParams::json_schema(g).to_value(),
        result: Some(serde_json::json!({"type": "null"})),
        input: None,
        output: None,
        error: None,
        sequential: false,
        operation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "two different types are named `Point` in the schema")]
    fn two_types_of_one_name_are_refused() {
        #[allow(dead_code)]
        mod a {
            #[derive(schemars::JsonSchema)]
            pub struct Point {
                pub x: i32,
            }
        }
        #[allow(dead_code)]
        mod b {
            #[derive(schemars::JsonSchema)]
            pub struct Point {
                pub lat: f64,
            }
        }
        let topics = [topic::<a::Point>("a", "", Side::Server), topic::<b::Point>("b", "", Side::Server)];
        build(&ServiceInfo::default(), std::iter::empty(), std::iter::empty(), &topics, &[], &[]);
    }

    #[test]
    fn one_type_used_twice_is_listed_once() {
        #[derive(schemars::JsonSchema)]
        struct Point {
            x: i32,
        }
        let _ = Point { x: 0 }.x;
        let topics = [topic::<Point>("a", "", Side::Server), topic::<Point>("b", "", Side::Server)];
        let doc = build(&ServiceInfo::default(), std::iter::empty(), std::iter::empty(), &topics, &[], &[]);
        assert!(doc.defs.contains_key("Point"));
    }
}
