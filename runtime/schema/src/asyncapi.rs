//! The introspection document as an AsyncAPI 3.0.0 document, for the tools that read
//! AsyncAPI (documentation sites, catalogues, linters, code generators of their own).
//!
//! volley multiplexes everything over one WebSocket, so the document has one server
//! (the endpoint) and one channel (the connection), and one message per frame that
//! carries a service's own data: a method's `CALL`, its `RESULT` or stream `ITEM`s and
//! `END`, the items a caller streams, its typed `ERROR`; a topic's `NOTIFY`; a shared
//! state's `STATE` frames; a state machine's events and pushes. Each message's payload
//! is the whole frame, an array led by its kind (PROTOCOL.md section 2), in JSON; on
//! `volley.v1.msgpack` the same arrays travel as MessagePack.
//!
//! Operations are written from a client's side: `send` is what a client sends,
//! `receive` what it is sent, and the answers to a call are its `reply`.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::{MachineDoc, MethodDoc, SchemaDocument, Scope, Side, StateDoc, TopicDoc};

/// The AsyncAPI version [`asyncapi`] writes.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// The key of the one server and of the one channel.
const SERVER: &str = "volley";
const CHANNEL: &str = "connection";
const CHANNEL_REF: &str = "#/channels/connection";

/// The schemas of the frames' own fields, beside the service's types in
/// `components/schemas`. Rust type names have no dots, so these never clash.
const CALL_ID: &str = "volley.CallId";
const METADATA: &str = "volley.Metadata";
const CALL_OPTIONS: &str = "volley.CallOptions";
const PATCH_OPERATION: &str = "volley.PatchOperation";

/// Where the document says the server is when no URL is given.
const PLACEHOLDER_HOST: &str = "localhost:8000";

/// Renders `doc` as an AsyncAPI 3.0.0 document.
///
/// `server_url` is the WebSocket endpoint's URL (`ws://host:8000/`, `wss://host/rpc`;
/// `http(s)://` is read as `ws(s)://`): it gives the server's `protocol`, `host` and
/// `pathname`. A query string, a fragment and credentials in the URL are left out.
/// Without a URL the server is `ws://localhost:8000/`, a placeholder to edit.
///
/// The service's named types (`$defs`) become `components/schemas`, and every
/// `#/$defs/Name` reference points there. Schemas are rewritten from JSON Schema
/// 2020-12 (what schemars writes) into the draft-07 dialect AsyncAPI schemas are
/// based on: `prefixItems` becomes the array form of `items` (a 2020-12 `items`
/// beside it becomes `additionalItems`), `$defs` inside a schema becomes
/// `definitions`, `dependentRequired` and `dependentSchemas` become `dependencies`, a
/// `$ref` with other keywords beside it (which draft-07 would ignore) moves into
/// `allOf`, and `$schema` and `$id` are dropped.
///
/// Operation ids and message names are the service's names (`calc.add`) with a suffix
/// for the frame (`calc.add.call`, `calc.add.result`), characters other than letters,
/// digits, `.`, `-` and `_` replaced by `_`, and `_2`, `_3`... appended should two
/// come out the same.
pub fn asyncapi(doc: &SchemaDocument, server_url: Option<&str>) -> Value {
    let mut b = Builder::new(doc);
    let generic_error = if doc.methods.is_empty() && doc.machines.is_empty() { None } else { Some(b.generic_error(doc)) };
    for m in &doc.methods {
        b.method(m, generic_error.as_ref());
    }
    for t in &doc.topics {
        b.topic(t);
    }
    for s in &doc.states {
        b.state(s);
    }
    for m in &doc.machines {
        b.machine(m, generic_error.as_ref());
    }
    b.finish(doc, server_url)
}

/// Where the endpoint is, as AsyncAPI's server object says it.
#[derive(Debug, PartialEq)]
struct Endpoint {
    protocol: &'static str,
    host: String,
    pathname: String,
}

fn endpoint(url: Option<&str>) -> Endpoint {
    let placeholder = || Endpoint { protocol: "ws", host: PLACEHOLDER_HOST.into(), pathname: "/".into() };
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return placeholder() };
    let (protocol, rest) = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") || scheme.eq_ignore_ascii_case("https") => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", url),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    // `user:password@host`: credentials have no place in a published document.
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return placeholder();
    }
    Endpoint { protocol, host: host.to_owned(), pathname: path.to_owned() }
}

/// Collects the messages and operations while it walks the document.
struct Builder {
    /// `$defs` name to `components/schemas` name.
    names: HashMap<String, String>,
    schemas: Map<String, Value>,
    messages: Map<String, Value>,
    operations: Map<String, Value>,
    message_names: HashSet<String>,
    operation_ids: HashSet<String>,
}

impl Builder {
    fn new(doc: &SchemaDocument) -> Self {
        let mut taken: HashSet<String> = [CALL_ID, METADATA, CALL_OPTIONS, PATCH_OPERATION].iter().map(|s| s.to_string()).collect();
        let names: HashMap<String, String> = doc.defs.keys().map(|name| (name.clone(), unique(&mut taken, name))).collect();
        let mut b = Builder {
            names,
            schemas: Map::new(),
            messages: Map::new(),
            operations: Map::new(),
            message_names: HashSet::new(),
            operation_ids: HashSet::new(),
        };
        b.schemas.insert(
            CALL_ID.into(),
            json!({
                "type": "integer",
                "minimum": 1,
                "maximum": 9007199254740991u64,
                "description": "The call's id: odd for the client's calls, even for the server's, each above the last (PROTOCOL.md section 3)."
            }),
        );
        b.schemas.insert(
            METADATA.into(),
            json!({
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Metadata: string keys to string values; keys starting with `volley-` are the protocol's (PROTOCOL.md section 6)."
            }),
        );
        b.schemas.insert(
            CALL_OPTIONS.into(),
            json!({
                "type": ["object", "null"],
                "properties": {
                    "m": {"allOf": [{"$ref": component(METADATA)}], "description": "Client metadata."},
                    "t": {"type": "integer", "minimum": 0, "description": "Timeout in milliseconds."},
                    "w": {"type": "integer", "minimum": 0, "maximum": 4294967295u64, "description": "The credit granted for the items the callee streams (default 32)."}
                },
                "description": "Call options (PROTOCOL.md section 2)."
            }),
        );
        if !doc.states.is_empty() {
            b.schemas.insert(
                PATCH_OPERATION.into(),
                json!({
                    "type": "object",
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "remove", "replace"]},
                        "path": {"type": "string", "description": "A JSON Pointer (RFC 6901) into the document."},
                        "value": {"description": "The value added or put in place (not for `remove`)."}
                    },
                    "required": ["op", "path"],
                    "description": "One operation of a JSON Patch (RFC 6902)."
                }),
            );
        }
        let defs: Vec<(String, Value)> = doc.defs.iter().map(|(name, schema)| (b.names[name].clone(), b.schema(schema))).collect();
        b.schemas.extend(defs);
        b
    }

    /// A schema of the document, in the dialect AsyncAPI reads.
    fn schema(&self, schema: &Value) -> Value {
        draft07(schema, &self.names)
    }

    /// An optional schema: absent or null is "anything".
    fn schema_or_any(&self, schema: Option<&Value>) -> Value {
        match schema {
            None | Some(Value::Null) => json!({}),
            Some(s) => self.schema(s),
        }
    }

    /// Adds a message under a name made from `wanted`; the reference to it in the
    /// channel, which operations list.
    fn message(&mut self, wanted: &str, mut message: Value) -> Value {
        let name = unique(&mut self.message_names, wanted);
        message["name"] = Value::String(name.clone());
        self.messages.insert(name.clone(), message);
        json!({"$ref": format!("{CHANNEL_REF}/messages/{}", pointer_escape(&name))})
    }

    fn operation(&mut self, wanted: &str, operation: Value) {
        let id = unique(&mut self.operation_ids, wanted);
        self.operations.insert(id, operation);
    }

    /// `ERROR` with any code: the answer any call may end with.
    fn generic_error(&mut self, doc: &SchemaDocument) -> Value {
        let mut codes = String::new();
        for e in doc.errors.iter().filter(|e| !e.name.is_empty()) {
            codes.push_str(&format!("\n- `{}` {}: {}", e.code, e.name, e.description.trim()));
        }
        let description = if codes.is_empty() {
            "A call failed: the code says why (PROTOCOL.md section 7).".to_owned()
        } else {
            format!("A call failed: the code says why (PROTOCOL.md section 7). The codes the server knows:\n{codes}")
        };
        self.message(
            "volley.error",
            json!({
                "title": "ERROR",
                "summary": "A call failed.",
                "description": description,
                "payload": frame(2, "ERROR", vec![call_id(), json!({"type": "integer", "description": "The error code."}), message_text(), json!({"description": "Details, as the code documents them."}), trailers()], 4),
            }),
        )
    }

    fn method(&mut self, m: &MethodDoc, generic_error: Option<&Value>) {
        let name = &m.name;
        let (caller, callee) = match m.side {
            Side::Server => ("client", "server"),
            Side::Client => ("server", "client"),
        };
        let params = match &m.params {
            Value::Null => json!({"type": "object"}),
            p => self.schema(p),
        };
        let required_params = m.params.get("required").and_then(Value::as_array).is_some_and(|r| !r.is_empty());
        let mut call = json!({
            "title": format!("CALL {name}"),
            "summary": format!("The {caller} calls `{name}` ({}).", m.kind),
            "payload": frame(0, "CALL", vec![call_id(), json!({"const": name, "description": "The method."}), params, json!({"$ref": component(CALL_OPTIONS)})], if required_params { 4 } else { 3 }),
        });
        set_description(&mut call, &m.description);
        if m.deprecated.is_some() {
            call["deprecated"] = Value::Bool(true);
        }
        let mut sends = vec![self.message(&format!("{name}.call"), call)];
        if m.kind.caller_streams() {
            let input = self.schema_or_any(m.input.as_ref());
            sends.push(self.message(
                &format!("{name}.input"),
                json!({
                    "title": format!("ITEM {name} (from the {caller})"),
                    "summary": format!("One item the {caller} streams to `{name}`; send only as many as the {callee} granted in `CREDIT`."),
                    "payload": frame(3, "ITEM", vec![call_id(), input], 3),
                }),
            ));
            sends.push(self.message(
                &format!("{name}.inputEnd"),
                json!({
                    "title": format!("END {name} (from the {caller})"),
                    "summary": format!("The {caller}'s stream of items to `{name}` is over."),
                    "payload": frame(4, "END", vec![call_id()], 2),
                }),
            ));
        }
        let mut replies = Vec::new();
        if let Some(op) = &m.operation {
            let progress = self.schema_or_any(Some(&op.progress));
            replies.push(self.message(
                &format!("{name}.accepted"),
                json!({
                    "title": format!("META {name} (accepted)"),
                    "summary": format!("`{name}` runs on as a long-running operation: its id, to fetch its outcome with `volley.operation.wait` or `volley.operation.get` (PROTOCOL.md section 14)."),
                    "payload": frame(8, "META", vec![call_id(), json!({
                        "type": "object",
                        "properties": {"volley-operation": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$", "description": "The operation's id."}},
                        "required": ["volley-operation"],
                        "additionalProperties": {"type": "string"}
                    })], 3),
                }),
            ));
            replies.push(self.message(
                &format!("{name}.progress"),
                json!({
                    "title": format!("NOTIFY volley.operation ({name})"),
                    "summary": format!("Progress of an accepted `{name}`, while its call is open."),
                    "payload": frame(10, "NOTIFY", vec![json!({"const": "volley.operation"}), json!({
                        "type": "object",
                        "properties": {"id": {"type": "string", "description": "The operation's id."}, "progress": progress},
                        "required": ["id", "progress"]
                    })], 3),
                }),
            ));
        }
        if m.kind.has_result() {
            let result = self.schema_or_any(m.result.as_ref());
            replies.push(self.message(
                &format!("{name}.result"),
                json!({
                    "title": format!("RESULT {name}"),
                    "summary": format!("The result of `{name}`."),
                    "payload": frame(1, "RESULT", vec![call_id(), result, trailers()], 3),
                }),
            ));
        }
        if m.kind.callee_streams() {
            let output = self.schema_or_any(m.output.as_ref());
            replies.push(self.message(
                &format!("{name}.item"),
                json!({
                    "title": format!("ITEM {name}"),
                    "summary": format!("One item `{name}` streams back; the {caller} grants credit for them (`ext.w`, then `CREDIT`)."),
                    "payload": frame(3, "ITEM", vec![call_id(), output], 3),
                }),
            ));
            replies.push(self.message(
                &format!("{name}.end"),
                json!({
                    "title": format!("END {name}"),
                    "summary": format!("`{name}` streamed its last item: the call is over."),
                    "payload": frame(4, "END", vec![call_id(), trailers()], 2),
                }),
            ));
        }
        if let Some(error) = m.error.as_ref().filter(|e| !e.is_null()) {
            let error = self.schema(error);
            replies.push(self.message(
                &format!("{name}.error"),
                json!({
                    "title": format!("ERROR {name} (APPLICATION)"),
                    "summary": format!("`{name}` failed with its own error type."),
                    "payload": frame(2, "ERROR", vec![call_id(), json!({"const": 1000, "description": "APPLICATION"}), message_text(), error, trailers()], 5),
                }),
            ));
        }
        replies.extend(generic_error.cloned());
        let mut description = String::new();
        if let Some(instead) = &m.deprecated {
            description.push_str("**Deprecated.**");
            if !instead.trim().is_empty() {
                description.push(' ');
                description.push_str(instead.trim());
            }
            description.push_str("\n\n");
        }
        description.push_str(m.description.trim());
        if m.side == Side::Client {
            description.push_str("\n\nThe server calls this method; a client serves it and sends the reply.");
        }
        if m.sequential {
            description.push_str("\n\nOne connection's calls to it run one at a time, in the order the server received them.");
        }
        let mut operation = json!({
            "action": if m.side == Side::Server { "send" } else { "receive" },
            "channel": {"$ref": CHANNEL_REF},
            "title": name,
            "summary": format!("{} `{name}` ({}).", if m.side == Side::Server { "Call" } else { "Answer the server's call of" }, m.kind),
            "messages": sends,
            "reply": {"channel": {"$ref": CHANNEL_REF}, "messages": replies},
        });
        set_description(&mut operation, &description);
        if m.deprecated.is_some() {
            // AsyncAPI's operations have no `deprecated` field (its messages do).
            operation["x-deprecated"] = Value::Bool(true);
        }
        self.operation(name, operation);
    }

    fn topic(&mut self, t: &TopicDoc) {
        let name = &t.name;
        let payload = self.schema_or_any(Some(&t.payload));
        let from = if t.publisher == Side::Server { "server" } else { "client" };
        let mut message = json!({
            "title": format!("NOTIFY {name}"),
            "summary": format!("A notification on `{name}`, from the {from}."),
            "payload": frame(10, "NOTIFY", vec![json!({"const": name, "description": "The topic."}), payload], 3),
        });
        set_description(&mut message, &t.description);
        let message = self.message(&format!("{name}.notify"), message);
        let (action, how) = match t.publisher {
            Side::Server => ("receive", format!("Subscribe with `volley.subscribe`, params `{{\"topics\": [\"{name}\"]}}`.")),
            Side::Client => ("send", "The server handles these; one it cannot handle is answered with a `WARNING` on id 0.".to_owned()),
        };
        let mut operation = json!({
            "action": action,
            "channel": {"$ref": CHANNEL_REF},
            "title": name,
            "summary": format!("Notifications on `{name}`."),
            "messages": [message],
        });
        set_description(&mut operation, &join(&t.description, &how));
        self.operation(&format!("{name}.{action}"), operation);
    }

    fn state(&mut self, s: &StateDoc) {
        let name = &s.name;
        let document = self.schema_or_any(Some(&s.schema));
        let topic = json!({"const": name, "description": "The state."});
        let snapshot = self.message(
            &format!("{name}.snapshot"),
            json!({
                "title": format!("STATE {name} (whole)"),
                "summary": format!("The whole `{name}` document: the first `STATE` after subscribing, and after patches were dropped for a slow reader."),
                "payload": frame(11, "STATE", vec![topic.clone(), json!({
                    "type": "array",
                    "items": [{
                        "type": "object",
                        "properties": {"op": {"const": "replace"}, "path": {"const": ""}, "value": document},
                        "required": ["op", "path", "value"]
                    }],
                    "minItems": 1,
                    "maxItems": 1
                })], 3),
            }),
        );
        let patch = self.message(
            &format!("{name}.patch"),
            json!({
                "title": format!("STATE {name} (patch)"),
                "summary": format!("A change of `{name}`, as a JSON Patch on the document so far."),
                "payload": frame(11, "STATE", vec![topic, json!({"type": "array", "items": {"$ref": component(PATCH_OPERATION)}})], 3),
            }),
        );
        let whose = match s.scope {
            Scope::Server => "One document, the same for every subscriber.",
            Scope::Connection => "Each connection has its own document.",
        };
        let how = format!("{whose} Subscribe with `volley.subscribe`, params `{{\"states\": [\"{name}\"]}}`, and apply every patch in order.");
        let mut operation = json!({
            "action": "receive",
            "channel": {"$ref": CHANNEL_REF},
            "title": name,
            "summary": format!("The shared state `{name}`."),
            "messages": [snapshot, patch],
        });
        set_description(&mut operation, &join(&s.description, &how));
        self.operation(&format!("{name}.state"), operation);
    }

    fn machine(&mut self, m: &MachineDoc, generic_error: Option<&Value>) {
        let machine = &m.name;
        // One operation per event name, with the event's messages in each state that
        // accepts it (their types may differ).
        let mut events: Vec<(String, Vec<Value>, Vec<Value>, Vec<String>)> = Vec::new();
        for s in &m.states {
            for e in &s.events {
                let data = self.schema_or_any(Some(&e.data));
                let result = self.schema_or_any(Some(&e.result));
                let method = format!("{machine}.{}", e.name);
                let mut call = json!({
                    "title": format!("CALL {method} (in {})", s.name),
                    "summary": format!("The event `{}` of `{machine}`, in the state `{}`.", e.name, s.name),
                    "payload": frame(0, "CALL", vec![call_id(), json!({"const": method, "description": "The machine and the event."}), json!({
                        "type": "object",
                        "properties": {"data": data},
                        "required": ["data"]
                    }), json!({"$ref": component(CALL_OPTIONS)})], 3),
                });
                set_description(&mut call, &e.description);
                let call = self.message(&format!("{machine}.{}.{}.event", s.name, e.name), call);
                let result = self.message(
                    &format!("{machine}.{}.{}.result", s.name, e.name),
                    json!({
                        "title": format!("RESULT {method} (in {})", s.name),
                        "summary": format!("The result of `{}` in the state `{}`.", e.name, s.name),
                        "payload": frame(1, "RESULT", vec![call_id(), result, trailers()], 3),
                    }),
                );
                let said = if e.description.trim().is_empty() { String::new() } else { format!(": {}", e.description.trim()) };
                let line = format!("- in `{}`{said}", s.name);
                match events.iter_mut().find(|(n, ..)| *n == e.name) {
                    Some((_, calls, results, lines)) => {
                        calls.push(call);
                        results.push(result);
                        lines.push(line);
                    }
                    None => events.push((e.name.clone(), vec![call], vec![result], vec![line])),
                }
            }
        }
        for (event, calls, mut results, lines) in events {
            results.extend(generic_error.cloned());
            let method = format!("{machine}.{event}");
            let description = format!(
                "Sends the event `{event}` to this connection's session of `{machine}`; a state that does not accept it answers `EVENT_NOT_ALLOWED`. Accepted:\n{}",
                lines.join("\n")
            );
            self.operation(
                &method,
                json!({
                    "action": "send",
                    "channel": {"$ref": CHANNEL_REF},
                    "title": method,
                    "summary": format!("The event `{event}` of the state machine `{machine}`."),
                    "description": description,
                    "messages": calls,
                    "reply": {"channel": {"$ref": CHANNEL_REF}, "messages": results},
                }),
            );
        }
        let mut pushes = Vec::new();
        for s in &m.states {
            let data = self.schema_or_any(Some(&s.data));
            let mut accepted: Vec<&str> = s.events.iter().map(|e| e.name.as_str()).collect();
            accepted.sort_unstable();
            accepted.dedup();
            let mut message = json!({
                "title": format!("NOTIFY {machine} (to {})", s.name),
                "summary": format!("The session of `{machine}` went to the state `{}`.", s.name),
                "payload": frame(10, "NOTIFY", vec![json!({"const": machine, "description": "The machine."}), json!({
                    "type": "object",
                    "properties": {
                        "state": {"const": s.name},
                        "events": {"const": accepted, "description": "The events the state accepts."},
                        "status": status(),
                        "data": data
                    },
                    "required": ["state", "events", "status", "data"]
                })], 3),
            });
            set_description(&mut message, &s.description);
            pushes.push(self.message(&format!("{machine}.{}.transition", s.name), message));
        }
        let transmit = self.schema_or_any(Some(&m.transmit));
        pushes.push(self.message(
            &format!("{machine}.transmit"),
            json!({
                "title": format!("NOTIFY {machine} (data)"),
                "summary": format!("Data pushed by a handler of `{machine}`, without a transition."),
                "payload": frame(10, "NOTIFY", vec![json!({"const": machine, "description": "The machine."}), json!({
                    "type": "object",
                    "properties": {"status": status(), "data": transmit},
                    "required": ["status", "data"]
                })], 3),
            }),
        ));
        let how = format!(
            "What the handlers of this connection's session of `{machine}` push, in order, before the answer to the event that made them; no subscription needed. `volley.machine` with params `{{\"machine\": \"{machine}\"}}` says where the session is. The states, the initial one first: {}.",
            m.states.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
        );
        let mut operation = json!({
            "action": "receive",
            "channel": {"$ref": CHANNEL_REF},
            "title": machine,
            "summary": format!("The pushes of the state machine `{machine}`."),
            "messages": pushes,
        });
        set_description(&mut operation, &join(&m.description, &how));
        self.operation(&format!("{machine}.pushes"), operation);
    }

    fn finish(self, doc: &SchemaDocument, server_url: Option<&str>) -> Value {
        let at = endpoint(server_url);
        let encodings: Vec<String> = if doc.encodings.is_empty() { vec!["volley.v1.json".into(), "volley.v1.msgpack".into()] } else { doc.encodings.clone() };
        let listed = encodings.iter().map(|e| format!("`{e}`{}", encoding_note(e))).collect::<Vec<_>>().join(", ");
        let mut info = json!({
            "title": doc.name,
            "version": if doc.version.is_empty() { "0.0.0" } else { doc.version.as_str() },
        });
        let about = "A volley service: typed calls, streams, notifications and shared state over one WebSocket (volley's PROTOCOL.md). \
Every message is one WebSocket message holding one frame, an array led by its kind, described here as JSON. \
Operations are a client's: `send` is what a client sends, `receive` what it is sent, and a call's answers are its reply; \
the server's calls to its clients are `receive` operations whose reply the client sends.";
        set_description(&mut info, &join(&doc.description, about));
        let channel_messages: Map<String, Value> =
            self.messages.keys().map(|name| (name.clone(), json!({"$ref": format!("#/components/messages/{}", pointer_escape(name))}))).collect();
        json!({
            "asyncapi": ASYNCAPI_VERSION,
            "info": info,
            "defaultContentType": "application/json",
            "servers": {
                SERVER: {
                    "host": at.host,
                    "pathname": at.pathname,
                    "protocol": at.protocol,
                    "protocolVersion": "13",
                    "title": doc.name,
                    "description": format!(
                        "The volley WebSocket endpoint. A client offers one of these subprotocols in `Sec-WebSocket-Protocol`: {listed}. The introspection document is at the endpoint's URL with `/schema` appended, over http(s)."
                    ),
                }
            },
            "channels": {
                CHANNEL: {
                    "title": "The connection",
                    "description": "The one WebSocket a client opens: every call, stream, notification and state travels on it as frames, many calls at once, told apart by their call ids.",
                    "servers": [{"$ref": format!("#/servers/{SERVER}")}],
                    "messages": channel_messages,
                    "bindings": {
                        "ws": {
                            "method": "GET",
                            "headers": {
                                "type": "object",
                                "properties": {
                                    "Sec-WebSocket-Protocol": {"type": "string", "enum": encodings, "description": "The subprotocol: the frames' encoding."}
                                },
                                "required": ["Sec-WebSocket-Protocol"]
                            },
                            "bindingVersion": "0.1.0"
                        }
                    }
                }
            },
            "operations": self.operations,
            "components": {"schemas": self.schemas, "messages": self.messages},
        })
    }
}

fn encoding_note(encoding: &str) -> &'static str {
    match encoding {
        "volley.v1.json" => " (JSON in text frames)",
        "volley.v1.msgpack" => " (MessagePack in binary frames)",
        _ => "",
    }
}

/// A frame's schema: an array of `kind` and `fields`, at least `required` long.
/// Frames may carry unknown trailing elements, so more are allowed.
fn frame(kind: u8, name: &str, fields: Vec<Value>, required: usize) -> Value {
    let mut items = vec![json!({"const": kind, "description": format!("The frame kind: {name}.")})];
    items.extend(fields);
    json!({"type": "array", "items": items, "minItems": required})
}

fn component(name: &str) -> String {
    format!("#/components/schemas/{}", pointer_escape(name))
}

fn call_id() -> Value {
    json!({"$ref": component(CALL_ID)})
}

fn trailers() -> Value {
    json!({"allOf": [{"$ref": component(METADATA)}], "description": "Trailing metadata."})
}

fn message_text() -> Value {
    json!({"type": "string", "description": "What went wrong, for people."})
}

fn status() -> Value {
    json!({"type": "integer", "minimum": 100, "maximum": 599, "description": "How it went, as an HTTP status: 2xx well, 4xx the client's input was refused, 5xx the server failed."})
}

fn set_description(object: &mut Value, description: &str) {
    let description = description.trim();
    if !description.is_empty() {
        object["description"] = Value::String(description.to_owned());
    }
}

fn join(first: &str, second: &str) -> String {
    match (first.trim(), second.trim()) {
        ("", s) => s.to_owned(),
        (f, "") => f.to_owned(),
        (f, s) => format!("{f}\n\n{s}"),
    }
}

/// `wanted` with characters AsyncAPI names may not have replaced, made unique in
/// `taken`.
fn unique(taken: &mut HashSet<String>, wanted: &str) -> String {
    let mut base: String = wanted.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    if base.is_empty() {
        base.push('_');
    }
    if taken.insert(base.clone()) {
        return base;
    }
    (2..).map(|n| format!("{base}_{n}")).find(|name| taken.insert(name.clone())).expect("some suffix is free")
}

fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn pointer_unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// `schema` (JSON Schema 2020-12) in draft-07 terms, its references to `#/$defs/X`
/// pointing at `#/components/schemas/` and the name in `names`.
fn draft07(schema: &Value, names: &HashMap<String, String>) -> Value {
    let Value::Object(object) = schema else {
        // `true`, `false`, or not a schema at all: nothing to rewrite.
        return schema.clone();
    };
    let map = |v: &Value| match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, s)| (k.clone(), draft07(s, names))).collect()),
        other => other.clone(),
    };
    let list = |v: &Value| match v {
        Value::Array(a) => Value::Array(a.iter().map(|s| draft07(s, names)).collect()),
        other => draft07(other, names),
    };
    let mut out = Map::new();
    let mut dependencies = Map::new();
    let mut tuple = None;
    let mut rest = None;
    for (key, value) in object {
        match key.as_str() {
            "$schema" | "$id" => {}
            "$ref" => {
                out.insert(key.clone(), value.as_str().map_or_else(|| value.clone(), |r| Value::String(reference(r, names))));
            }
            "$defs" | "definitions" => {
                out.insert("definitions".into(), map(value));
            }
            "properties" | "patternProperties" => {
                out.insert(key.clone(), map(value));
            }
            "dependentRequired" | "dependentSchemas" | "dependencies" => {
                if let Value::Object(m) = value {
                    for (property, dependency) in m {
                        let dependency = if dependency.is_array() { dependency.clone() } else { draft07(dependency, names) };
                        dependencies.insert(property.clone(), dependency);
                    }
                }
            }
            "prefixItems" => tuple = Some(list(value)),
            "items" if value.is_array() => {
                out.insert(key.clone(), list(value));
            }
            "items" => rest = Some(draft07(value, names)),
            "allOf" | "anyOf" | "oneOf" => {
                out.insert(key.clone(), list(value));
            }
            "additionalProperties" | "additionalItems" | "not" | "if" | "then" | "else" | "contains" | "propertyNames"
            | "unevaluatedProperties" | "unevaluatedItems" => {
                out.insert(key.clone(), draft07(value, names));
            }
            // Values, not schemas: `const`, `enum`, `default`, `examples`, annotations.
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    match (tuple, rest) {
        (Some(tuple), rest) => {
            out.insert("items".into(), tuple);
            if let Some(rest) = rest {
                out.insert("additionalItems".into(), rest);
            }
        }
        (None, Some(rest)) => {
            out.insert("items".into(), rest);
        }
        (None, None) => {}
    }
    if !dependencies.is_empty() {
        out.insert("dependencies".into(), Value::Object(dependencies));
    }
    // Draft-07 ignores whatever stands beside a `$ref`; 2020-12 applies both.
    if out.len() > 1 {
        if let Some(r) = out.remove("$ref") {
            let r = json!({"$ref": r});
            match out.get_mut("allOf") {
                Some(Value::Array(all)) => all.insert(0, r),
                _ => {
                    out.insert("allOf".into(), json!([r]));
                }
            }
        }
    }
    Value::Object(out)
}

/// A reference into `$defs` as one into `components/schemas`; others as they are.
fn reference(r: &str, names: &HashMap<String, String>) -> String {
    let Some(rest) = r.strip_prefix("#/$defs/") else { return r.to_owned() };
    let mut segments = rest.split('/');
    let name = pointer_unescape(segments.next().unwrap_or_default());
    let component = names.get(&name).cloned().unwrap_or_else(|| unique(&mut HashSet::new(), &name));
    let mut out = format!("#/components/schemas/{}", pointer_escape(&component));
    for segment in segments {
        out.push('/');
        out.push_str(match segment {
            "$defs" => "definitions",
            "prefixItems" => "items",
            s => s,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(text: &str) -> SchemaDocument {
        serde_json::from_str(text).expect("a fixture schema")
    }

    fn shapes() -> Value {
        asyncapi(&fixture(include_str!("../../../codegen/tests/fixtures/shapes.json")), Some("ws://127.0.0.1:8000/rpc?access_token=secret"))
    }

    /// Every `$ref` string in `v`, with where it stands.
    fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(r)) => out.push((at.clone(), r)),
                        _ => refs(x, format!("{at}/{k}"), out),
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    refs(x, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn assert_refs_resolve(doc: &Value) {
        let mut all = Vec::new();
        refs(doc, String::new(), &mut all);
        assert!(!all.is_empty());
        for (at, r) in all {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: `{r}` points outside the document"));
            assert!(doc.pointer(pointer).is_some(), "{at}: `{r}` points at nothing");
        }
    }

    /// Every string anywhere in `v`.
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push(k.clone());
                strings(x, out)
            }),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_server_is_the_endpoint_without_its_query() {
        let doc = shapes();
        assert_eq!(doc["asyncapi"], "3.0.0");
        let server = &doc["servers"]["volley"];
        assert_eq!((&server["protocol"], &server["host"], &server["pathname"]), (&json!("ws"), &json!("127.0.0.1:8000"), &json!("/rpc")));
        let mut all = Vec::new();
        strings(&doc, &mut all);
        assert!(!all.iter().any(|s| s.contains("secret")), "the access token stays out");
        // The subprotocols, in the description and as the upgrade's header.
        assert!(server["description"].as_str().unwrap().contains("`volley.v1.msgpack`"), "{server}");
        let header = &doc["channels"]["connection"]["bindings"]["ws"]["headers"]["properties"]["Sec-WebSocket-Protocol"];
        assert_eq!(header["enum"], json!(["volley.v1.json", "volley.v1.msgpack"]));
    }

    #[test]
    fn server_urls() {
        let e = |url| endpoint(Some(url));
        assert_eq!(e("wss://example.com"), Endpoint { protocol: "wss", host: "example.com".into(), pathname: "/".into() });
        assert_eq!(e("https://user:pw@example.com:8443/a/b#x"), Endpoint { protocol: "wss", host: "example.com:8443".into(), pathname: "/a/b".into() });
        assert_eq!(e("http://[::1]:9000/"), Endpoint { protocol: "ws", host: "[::1]:9000".into(), pathname: "/".into() });
        assert_eq!(endpoint(None), Endpoint { protocol: "ws", host: "localhost:8000".into(), pathname: "/".into() });
        assert_eq!(e("ws:///nothing"), endpoint(None));
    }

    #[test]
    fn info_comes_from_the_service() {
        let doc = shapes();
        assert_eq!((&doc["info"]["title"], &doc["info"]["version"]), (&json!("shapes"), &json!("0.1.0")));
        let plain = asyncapi(&fixture(include_str!("../../../codegen/tests/fixtures/unary_only.json")), None);
        assert_eq!((&plain["info"]["title"], &plain["info"]["version"]), (&json!("plain"), &json!("0.0.0")));
        assert_eq!(plain["servers"]["volley"]["host"], "localhost:8000");
    }

    #[test]
    fn a_call_from_the_client_is_sent_and_has_a_reply() {
        let doc = shapes();
        let divide = &doc["operations"]["calc.divide"];
        assert_eq!(divide["action"], "send");
        assert_eq!(divide["channel"]["$ref"], "#/channels/connection");
        assert_eq!(divide["messages"], json!([{"$ref": "#/channels/connection/messages/calc.divide.call"}]));
        let replies: Vec<&str> = divide["reply"]["messages"].as_array().unwrap().iter().map(|m| m["$ref"].as_str().unwrap()).collect();
        assert_eq!(
            replies,
            [
                "#/channels/connection/messages/calc.divide.result",
                "#/channels/connection/messages/calc.divide.error",
                "#/channels/connection/messages/volley.error"
            ]
        );
        // The CALL frame: kind, id, the method's name, its parameters.
        let call = &doc["components"]["messages"]["calc.divide.call"];
        assert_eq!(call["name"], "calc.divide.call");
        let items = &call["payload"]["items"];
        assert_eq!((&items[0]["const"], &items[2]["const"]), (&json!(0), &json!("calc.divide")));
        assert_eq!(items[3]["required"], json!(["a", "b"]));
        // The typed error's data is the service's type, now a component.
        let error = &doc["components"]["messages"]["calc.divide.error"]["payload"]["items"];
        assert_eq!((&error[2]["const"], &error[4]["$ref"]), (&json!(1000), &json!("#/components/schemas/DivError")));
        assert!(doc["components"]["schemas"]["DivError"]["oneOf"].is_array());
    }

    #[test]
    fn every_shape_has_its_frames() {
        let doc = shapes();
        let names = |op: &str, part: &str| -> Vec<String> {
            let list = if part == "reply" { &doc["operations"][op]["reply"]["messages"] } else { &doc["operations"][op]["messages"] };
            list.as_array().unwrap().iter().map(|m| m["$ref"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()).collect()
        };
        assert_eq!(names("countdown", "reply"), ["countdown.item", "countdown.end", "volley.error"]);
        assert_eq!(names("sum", "messages"), ["sum.call", "sum.input", "sum.inputEnd"]);
        assert_eq!(names("sum", "reply"), ["sum.result", "volley.error"]);
        assert_eq!(names("echo", "messages"), ["echo.call", "echo.input", "echo.inputEnd"]);
        assert_eq!(names("echo", "reply"), ["echo.item", "echo.end", "volley.error"]);
        // An operation: its id in leading metadata, then progress, then the result.
        assert_eq!(names("job", "reply"), ["job.accepted", "job.progress", "job.result", "volley.error"]);
        let progress = &doc["components"]["messages"]["job.progress"]["payload"]["items"];
        assert_eq!(progress[1]["const"], "volley.operation");
        assert_eq!(progress[2]["properties"]["progress"]["format"], "uint32");
    }

    #[test]
    fn calls_from_the_server_are_received_and_answered() {
        let doc = shapes();
        let confirm = &doc["operations"]["ui.confirm"];
        assert_eq!(confirm["action"], "receive");
        assert!(confirm["reply"]["messages"].as_array().is_some_and(|m| !m.is_empty()), "{confirm}");
        assert_eq!(doc["operations"]["ui.progress"]["messages"].as_array().unwrap().len(), 3, "the call, its items and its end");
    }

    #[test]
    fn topics_go_the_way_their_publisher_sends_them() {
        let mut schema = fixture(include_str!("../../../codegen/tests/fixtures/shapes.json"));
        schema.topics[1].publisher = Side::Client;
        let doc = asyncapi(&schema, None);
        assert_eq!(doc["operations"]["news.receive"]["action"], "receive");
        let fast = &doc["operations"]["ticks.fast.send"];
        assert_eq!(fast["action"], "send");
        assert!(fast.get("reply").is_none());
        let notify = &doc["components"]["messages"]["ticks.fast.notify"]["payload"]["items"];
        assert_eq!((&notify[0]["const"], &notify[1]["const"]), (&json!(10), &json!("ticks.fast")));
    }

    #[test]
    fn states_and_machines_have_their_pushes() {
        let doc = shapes();
        let board = &doc["operations"]["board.state"];
        assert_eq!(board["action"], "receive");
        assert_eq!(board["messages"].as_array().unwrap().len(), 2, "{board}");
        // The door's events are calls with a reply; its transitions and data are pushed.
        let open = &doc["operations"]["door.open"];
        assert_eq!(open["action"], "send");
        assert!(open["reply"].is_object());
        let event = &doc["components"]["messages"]["door.closed.lock.event"]["payload"]["items"];
        assert_eq!((&event[2]["const"], &event[3]["properties"]["data"]["type"]), (&json!("door.lock"), &json!("string")));
        let pushes = doc["operations"]["door.pushes"]["messages"].as_array().unwrap();
        assert_eq!(pushes.len(), 4, "a transition into each of three states, and the data events");
        let into_open = &doc["components"]["messages"]["door.open.transition"]["payload"]["items"][2]["properties"];
        assert_eq!((&into_open["state"]["const"], &into_open["events"]["const"]), (&json!("open"), &json!(["close"])));
        assert_eq!(into_open["data"]["$ref"], "#/components/schemas/Point");
    }

    #[test]
    fn there_is_an_operation_for_everything_the_schema_lists() {
        let schema = fixture(include_str!("../../../codegen/tests/fixtures/shapes.json"));
        let doc = asyncapi(&schema, None);
        let events: HashSet<&str> = schema.machines.iter().flat_map(|m| m.states.iter().flat_map(|s| s.events.iter().map(|e| e.name.as_str()))).collect();
        let expected = schema.methods.len() + schema.topics.len() + schema.states.len() + schema.machines.len() + events.len();
        assert_eq!(doc["operations"].as_object().unwrap().len(), expected);
        // And every message is in the channel.
        let channel = doc["channels"]["connection"]["messages"].as_object().unwrap();
        assert_eq!(channel.len(), doc["components"]["messages"].as_object().unwrap().len());
    }

    #[test]
    fn every_reference_points_inside_the_document() {
        assert_refs_resolve(&shapes());
        assert_refs_resolve(&asyncapi(&fixture(include_str!("../../../codegen/tests/fixtures/unary_only.json")), None));
        let mut all = Vec::new();
        strings(&shapes(), &mut all);
        assert!(!all.iter().any(|s| s.starts_with("#/$defs")), "no reference is left in $defs");
    }

    #[test]
    fn names_are_unique_and_valid() {
        let mut schema = fixture(include_str!("../../../codegen/tests/fixtures/unary_only.json"));
        let mut twin = schema.methods[0].clone();
        twin.name = "a/d d".into();
        schema.methods.push(twin.clone());
        twin.name = "a_d_d".into();
        schema.methods.push(twin);
        let doc = asyncapi(&schema, None);
        let ids: Vec<&String> = doc["operations"].as_object().unwrap().keys().collect();
        assert!(ids.contains(&&"a_d_d".to_string()) && ids.contains(&&"a_d_d_2".to_string()), "{ids:?}");
        for name in doc["components"]["messages"].as_object().unwrap().keys().chain(doc["components"]["schemas"].as_object().unwrap().keys()) {
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{name}");
        }
    }

    #[test]
    fn schemas_are_draft_07() {
        let doc = shapes();
        let scalars = &doc["components"]["schemas"]["Scalars"]["properties"];
        // A tuple: `prefixItems` is the array form of `items`.
        assert_eq!(scalars["pair"]["items"], json!([{"type": "integer", "format": "int32"}, {"type": "string"}]));
        assert!(scalars["pair"].get("prefixItems").is_none());
        assert_eq!(scalars["ordered"]["additionalProperties"]["$ref"], "#/components/schemas/Point");
        let mut all = Vec::new();
        strings(&doc, &mut all);
        assert!(!all.iter().any(|s| s == "prefixItems" || s == "$defs"), "no 2020-12 keyword is left");
        // A `$ref` beside other keywords moves into `allOf`, where draft-07 applies it.
        let located = &doc["components"]["schemas"]["Event"]["oneOf"][2];
        assert_eq!(located["allOf"], json!([{"$ref": "#/components/schemas/Point"}]));
        assert!(located.get("$ref").is_none() && located["properties"]["type"]["const"] == "Located", "{located}");
    }

    #[test]
    fn the_2020_12_keywords_in_draft_07() {
        let names = HashMap::from([("A".to_string(), "A".to_string())]);
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "prefixItems": [{"$ref": "#/$defs/A"}],
            "items": {"type": "string"},
            "dependentRequired": {"a": ["b"]},
            "dependentSchemas": {"c": {"$ref": "#/$defs/A"}},
            "$defs": {"Inner": {"type": "null"}},
            "properties": {"$ref": {"type": "string"}, "prefixItems": {"const": {"$ref": "#/$defs/A"}}}
        });
        assert_eq!(
            draft07(&schema, &names),
            json!({
                "items": [{"$ref": "#/components/schemas/A"}],
                "additionalItems": {"type": "string"},
                "dependencies": {"a": ["b"], "c": {"$ref": "#/components/schemas/A"}},
                "definitions": {"Inner": {"type": "null"}},
                "properties": {"$ref": {"type": "string"}, "prefixItems": {"const": {"$ref": "#/$defs/A"}}}
            })
        );
    }

    #[test]
    fn deprecation_is_carried_over() {
        let mut schema = fixture(include_str!("../../../codegen/tests/fixtures/unary_only.json"));
        schema.methods[0].deprecated = Some("use `sum`".into());
        let doc = asyncapi(&schema, None);
        let add = &doc["operations"]["add"];
        assert_eq!(add["x-deprecated"], true);
        assert!(add["description"].as_str().unwrap().starts_with("**Deprecated.** use `sum`"), "{add}");
        assert_eq!(doc["components"]["messages"]["add.call"]["deprecated"], true);
    }
}
