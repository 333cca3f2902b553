//! The introspection document (PROTOCOL.md section 9): the one contract between a
//! server, the code generator and the generated SDKs.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::method::MethodDef;
use crate::protocol::{Encoding, ErrorCode, Shape};

/// The document format version this crate writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Which side serves a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The server serves it; clients call it.
    Server,
    /// Clients serve it; the server calls it.
    Client,
}

/// One method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodDoc {
    /// Full dotted name.
    pub name: String,
    /// The doc comment.
    pub description: String,
    /// `null`, or what to use instead.
    pub deprecated: Option<String>,
    /// Who serves it.
    pub side: Side,
    /// The call shape.
    pub kind: Shape,
    /// Object schema of the parameters.
    pub params: serde_json::Value,
    /// Schema of the `RESULT` value (unary, client stream).
    pub result: Option<serde_json::Value>,
    /// Schema of the items the caller streams.
    pub input: Option<serde_json::Value>,
    /// Schema of the items the callee streams.
    pub output: Option<serde_json::Value>,
    /// Schema of `data` in `APPLICATION` errors.
    pub error: Option<serde_json::Value>,
}

/// A notification topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDoc {
    /// The topic name.
    pub name: String,
    /// What it carries.
    pub description: String,
    /// Schema of each message.
    pub payload: serde_json::Value,
    #[serde(skip)]
    pub(crate) defs: serde_json::Map<String, serde_json::Value>,
}

/// A shared state mirrored to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDoc {
    /// The state's name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Schema of the whole state document.
    pub schema: serde_json::Value,
    #[serde(skip)]
    pub(crate) defs: serde_json::Map<String, serde_json::Value>,
}

/// A built-in error code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDoc {
    /// The number.
    pub code: i64,
    /// The name.
    pub name: String,
    /// What it means.
    pub description: String,
}

/// Who the service is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// Service name.
    pub name: String,
    /// Service version.
    pub version: String,
    /// What it does.
    pub description: String,
}

/// The whole introspection document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaDocument {
    /// Document format version ([`SCHEMA_VERSION`]).
    pub volley: u32,
    /// Service name.
    pub name: String,
    /// Service version.
    pub version: String,
    /// What the service does.
    pub description: String,
    /// Subprotocols the server accepts.
    pub encodings: Vec<String>,
    /// Every method, sorted by name.
    pub methods: Vec<MethodDoc>,
    /// Notification topics.
    pub topics: Vec<TopicDoc>,
    /// Shared states.
    pub states: Vec<StateDoc>,
    /// The built-in error codes.
    pub errors: Vec<ErrorDoc>,
    /// Named types, referenced as `#/$defs/Name`.
    #[serde(rename = "$defs")]
    pub defs: serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/$defs".into();
    settings.into_generator()
}

impl TopicDoc {
    pub(crate) fn new<T: JsonSchema>(name: &str, description: &str) -> Self {
        let mut g = generator();
        let payload = g.subschema_for::<T>().to_value();
        TopicDoc { name: name.into(), description: description.into(), payload, defs: g.take_definitions(true) }
    }
}

impl StateDoc {
    pub(crate) fn new<T: JsonSchema>(name: &str, description: &str) -> Self {
        let mut g = generator();
        let schema = g.subschema_for::<T>().to_value();
        StateDoc { name: name.into(), description: description.into(), schema, defs: g.take_definitions(true) }
    }
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
    topics: &[TopicDoc],
    states: &[StateDoc],
) -> SchemaDocument {
    let mut g = generator();
    let mut docs: Vec<MethodDoc> = methods.map(|m| m.describe(&mut g)).collect();
    docs.extend(client_methods.map(|m| MethodDoc { side: Side::Client, ..m.describe(&mut g) }));
    docs.push(introspect_doc(&mut g));
    docs.push(subscribe_doc(&mut g, "volley.subscribe", "Starts notifications for topics and state patches for shared states."));
    docs.push(subscribe_doc(&mut g, "volley.unsubscribe", "Stops notifications for topics and state patches for shared states."));
    docs.sort_by(|a, b| (a.side == Side::Client, &a.name).cmp(&(b.side == Side::Client, &b.name)));
    let mut defs = g.take_definitions(true);
    for t in topics {
        defs.extend(t.defs.clone());
    }
    for s in states {
        defs.extend(s.defs.clone());
    }
    SchemaDocument {
        volley: SCHEMA_VERSION,
        name: info.name.clone(),
        version: info.version.clone(),
        description: info.description.clone(),
        encodings: [Encoding::Json, Encoding::MsgPack].iter().map(|e| e.subprotocol().to_owned()).collect(),
        methods: docs,
        topics: topics.to_vec(),
        states: states.to_vec(),
        errors: ErrorCode::ALL
            .iter()
            .map(|(c, n, d)| ErrorDoc { code: c.0, name: (*n).to_owned(), description: (*d).to_owned() })
            .collect(),
        defs,
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
    }
}
