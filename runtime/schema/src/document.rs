//! The document and its parts, in the order the server writes them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Shape, Side};

/// The document format version servers write.
pub const SCHEMA_VERSION: u32 = 3;

/// The document format versions a reader of this crate understands.
pub const SUPPORTED_VERSIONS: &[u32] = &[1, 2, 3];

/// The whole introspection document, as served at `GET /schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaDocument {
    /// Document format version ([`SCHEMA_VERSION`]).
    pub volley: u32,
    /// Service name.
    pub name: String,
    /// Service version; empty when the server does not say.
    #[serde(default)]
    pub version: String,
    /// What the service does; may be empty.
    #[serde(default)]
    pub description: String,
    /// Subprotocols the server accepts.
    #[serde(default)]
    pub encodings: Vec<String>,
    /// Every method, served by the server or by its clients: the server's first, each
    /// side sorted by name.
    #[serde(default)]
    pub methods: Vec<MethodDoc>,
    /// Notification topics.
    #[serde(default)]
    pub topics: Vec<TopicDoc>,
    /// Shared states.
    #[serde(default)]
    pub states: Vec<StateDoc>,
    /// State machines: each connection has a session of each (version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineDoc>,
    /// The built-in error codes.
    #[serde(default)]
    pub errors: Vec<ErrorDoc>,
    /// Named types, referenced as `#/$defs/Name`.
    #[serde(default, rename = "$defs")]
    pub defs: Map<String, Value>,
}

/// One method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodDoc {
    /// Full dotted name (`calc.add`).
    pub name: String,
    /// The doc comment; may be empty.
    #[serde(default)]
    pub description: String,
    /// `null`, or what to use instead.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// Who serves it.
    pub side: Side,
    /// The call shape.
    pub kind: Shape,
    /// Object schema of the parameters (`null` when there are none).
    #[serde(default)]
    pub params: Value,
    /// Schema of the `RESULT` value (unary, client stream).
    #[serde(default)]
    pub result: Option<Value>,
    /// Schema of the items the caller streams.
    #[serde(default)]
    pub input: Option<Value>,
    /// Schema of the items the callee streams.
    #[serde(default)]
    pub output: Option<Value>,
    /// Schema of `data` in `APPLICATION` errors.
    #[serde(default)]
    pub error: Option<Value>,
    /// True when one connection's calls to it run one at a time, in the order they
    /// arrived (version 2; absent means false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sequential: bool,
    /// Set when the method may answer as a long-running operation (version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationDoc>,
}

/// What a method that may answer as an operation adds (PROTOCOL.md section 14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationDoc {
    /// Schema of its progress updates.
    #[serde(default)]
    pub progress: Value,
}

/// A notification topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDoc {
    /// The topic name.
    pub name: String,
    /// What it carries; may be empty.
    #[serde(default)]
    pub description: String,
    /// Schema of each message.
    #[serde(default)]
    pub payload: Value,
    /// Which peer publishes it (version 2; `server` when absent): `server` for topics
    /// clients subscribe to, `client` for notifications clients send and the server
    /// handles.
    #[serde(default = "server")]
    pub publisher: Side,
}

fn server() -> Side {
    Side::Server
}

/// A shared state mirrored to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDoc {
    /// The state's name.
    pub name: String,
    /// What it holds; may be empty.
    #[serde(default)]
    pub description: String,
    /// Schema of the whole state document.
    #[serde(default)]
    pub schema: Value,
    /// Whose document it is (version 2; `server` when absent).
    #[serde(default)]
    pub scope: Scope,
}

/// Whose document a shared state is (PROTOCOL.md section 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One document for the whole server, the same for every subscriber.
    #[default]
    Server,
    /// Each connection has its own document, set by the server for that connection.
    Connection,
}

/// A state machine (PROTOCOL.md section 14): each connection has its own session of it,
/// which starts in the first state listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineDoc {
    /// The machine's name: its events are called as `<name>.<event>`, and its
    /// transitions and data events arrive as notifications on the topic `<name>`.
    pub name: String,
    /// What it models; may be empty.
    #[serde(default)]
    pub description: String,
    /// Schema of `data` in the machine's data events (`transmit`).
    #[serde(default)]
    pub transmit: Value,
    /// The states, the initial one first.
    pub states: Vec<MachineStateDoc>,
}

/// One state of a machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineStateDoc {
    /// The state's name, unique in its machine.
    pub name: String,
    /// What it means; may be empty.
    #[serde(default)]
    pub description: String,
    /// Schema of `data` in a transition into this state.
    #[serde(default)]
    pub data: Value,
    /// The states a transition from this one may go to; `None` (null): any state.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// The events this state accepts.
    #[serde(default)]
    pub events: Vec<EventDoc>,
}

/// An event a state accepts: a unary call of `<machine>.<event>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDoc {
    /// The event's name, unique in its state.
    pub name: String,
    /// What it does; may be empty.
    #[serde(default)]
    pub description: String,
    /// Schema of the event's `data` parameter.
    #[serde(default)]
    pub data: Value,
    /// Schema of the call's result.
    #[serde(default)]
    pub result: Value,
}

/// An error code the server may answer with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDoc {
    /// The number.
    pub code: i64,
    /// Its stable name, such as `METHOD_NOT_FOUND`.
    pub name: String,
    /// What it means; may be empty.
    #[serde(default)]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_document_reads_with_defaults() {
        let doc: SchemaDocument = serde_json::from_str(
            r#"{"volley": 1, "name": "s", "methods": [{"name": "m", "side": "server", "kind": "unary", "result": null}]}"#,
        )
        .unwrap();
        assert_eq!((doc.version.as_str(), doc.description.as_str()), ("", ""));
        let m = &doc.methods[0];
        assert_eq!((m.side, m.kind, m.result.as_ref(), &m.params), (Side::Server, Shape::Unary, None, &Value::Null));
        assert!(doc.topics.is_empty() && doc.defs.is_empty());
    }

    #[test]
    fn a_version_1_topic_is_the_servers() {
        let doc: SchemaDocument = serde_json::from_str(r#"{"volley": 1, "name": "s", "methods": [], "topics": [{"name": "news"}]}"#).unwrap();
        assert_eq!(doc.topics[0].publisher, Side::Server);
    }

    #[test]
    fn a_written_document_reads_back_the_same() {
        let doc = SchemaDocument {
            volley: SCHEMA_VERSION,
            name: "s".into(),
            version: "1.0.0".into(),
            description: "d".into(),
            encodings: vec!["volley.json.v1".into()],
            methods: vec![MethodDoc {
                name: "add".into(),
                description: String::new(),
                deprecated: Some("use sum".into()),
                side: Side::Client,
                kind: Shape::BidiStream,
                params: serde_json::json!({"type": "object"}),
                result: None,
                input: Some(serde_json::json!({"type": "integer"})),
                output: Some(serde_json::json!({"type": "string"})),
                sequential: true,
                error: None,
                operation: None,
            }],
            topics: vec![TopicDoc { name: "t".into(), description: String::new(), payload: Value::Null, publisher: Side::Client }],
            states: vec![],
            machines: vec![],
            errors: vec![ErrorDoc { code: -1, name: "X".into(), description: "x".into() }],
            defs: Map::new(),
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains(r#""$defs":{}"#) && text.contains(r#""kind":"bidi_stream""#), "{text}");
        assert_eq!(serde_json::from_str::<SchemaDocument>(&text).unwrap(), doc);
    }
}
