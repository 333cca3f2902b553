//! The language-neutral model of a service: what every SDK generator starts from.
//!
//! [`Service::from_document`] reads the JSON Schemas of a [`SchemaDocument`] (as schemars 1.x
//! writes them) into [`Type`]s, recognising serde's shapes: structs, optional and
//! nullable fields, maps, tuples, unit enums, the four enum taggings, flattening. A
//! schema that cannot be mapped is reported with where it was found; nothing is guessed.
//!
//! Names here are the wire names, untouched. Each language's model (for example
//! [`crate::typescript::model`]) escapes and renames them for its target.
//!
//! The service and its calls are here; the types in [`types`]; the JSON Schema reader in
//! `mapper.rs`, and its rules for serde's enum taggings in `serde_tagging.rs`.

mod mapper;
mod serde_tagging;
pub mod types;

use serde_json::Value;
use volley_schema::SchemaDocument;

use mapper::{clean, description, Mapper};
pub use mapper::{MapError, MapErrors};
pub use types::*;

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
    /// State machines: each connection has a session of each.
    pub machines: Vec<Machine>,
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
    /// For a method that may answer as a long-running operation: its progress type.
    pub operation: Option<Type>,
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
    /// True when clients publish it and the server handles it (`"publisher": "client"`);
    /// false for the topics clients subscribe to.
    pub from_client: bool,
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

/// A state machine (PROTOCOL.md section 13).
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// The machine's name: its events are `<name>.<event>`, its pushes the topic `<name>`.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The data of its data events.
    pub transmit: Type,
    /// Its states, the initial one first.
    pub states: Vec<MachineState>,
}

/// A state of a machine.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineState {
    /// The state's name.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// The data of a transition into it.
    pub data: Type,
    /// The states it may go to; `None`: any.
    pub targets: Option<Vec<String>>,
    /// The events it accepts.
    pub events: Vec<MachineEvent>,
}

/// An event a state accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineEvent {
    /// The event's name.
    pub name: String,
    /// Doc text.
    pub description: Option<String>,
    /// Its data; `Type::Null` for an event without data.
    pub data: Type,
    /// Its call's result.
    pub result: Type,
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


impl Service {
    /// Builds the model of a loaded document, or lists every schema it cannot map.
    pub fn from_document(doc: &SchemaDocument) -> Result<Service, MapErrors> {
        let mut cx = Mapper { defs: &doc.defs, errors: vec![] };
        let methods = doc.methods.iter().map(|m| Method::from_doc(&mut cx, m)).collect();
        let topics = doc
            .topics
            .iter()
            .map(|t| Topic {
                name: t.name.clone(),
                description: clean(&t.description),
                payload: cx.ty(&t.payload, &format!("topics[{}].payload", t.name)),
                from_client: t.publisher == volley_schema::Side::Client,
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
        let machines = doc
            .machines
            .iter()
            .map(|m| {
                let at = format!("machines[{}]", m.name);
                Machine {
                    name: m.name.clone(),
                    description: clean(&m.description),
                    transmit: cx.ty(&m.transmit, &format!("{at}.transmit")),
                    states: m
                        .states
                        .iter()
                        .map(|s| MachineState {
                            name: s.name.clone(),
                            description: clean(&s.description),
                            data: cx.ty(&s.data, &format!("{at}.states[{}].data", s.name)),
                            targets: s.targets.clone(),
                            events: s
                                .events
                                .iter()
                                .map(|e| MachineEvent {
                                    name: e.name.clone(),
                                    description: clean(&e.description),
                                    data: cx.ty(&e.data, &format!("{at}.states[{}].events[{}].data", s.name, e.name)),
                                    result: cx.ty(&e.result, &format!("{at}.states[{}].events[{}].result", s.name, e.name)),
                                })
                                .collect(),
                        })
                        .collect(),
                }
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
            machines,
            types,
            errors,
        })
    }
}

impl Method {
    /// One method of the document, its schemas mapped.
    fn from_doc(cx: &mut Mapper<'_>, m: &volley_schema::MethodDoc) -> Method {
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
        let operation = m.operation.as_ref().map(|o| cx.ty(&o.progress, &format!("{at}.operation.progress")));
        Method {
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
            operation: if kind == Shape::Unary { operation } else { None },
        }
    }
}
