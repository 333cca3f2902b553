//! The Python model: every name, annotation, decoder and docstring the templates print,
//! worked out from the IR. Templates only lay these out.
//!
//! Types become dataclasses (`kw_only`, so field order never matters) with `to_wire`
//! and `from_wire`; serde enums with data become one dataclass per variant and a union
//! alias with a `decode_<Name>` function; unit enums become `Literal` aliases. Inline
//! objects, enums and unions are hoisted into named declarations, named after where
//! they appear.

use std::collections::BTreeSet;

use crate::names::{doc_text, is_reserved_method, package_name, pascal};
use crate::ir::{Payload, Service, Tagging, Type};
use crate::output::Settings;

use super::docs::{client_docs, def_header, docstring};
use super::keywords::{STATES_MEMBERS, TOPICS_MEMBERS};
use super::methods::Methods;
use super::names::{import_name, py_str, unique};
use super::machines::PyMachine;
use super::types::{Cx, Named};

/// Everything the Python templates need.
#[derive(Debug, Clone)]
pub struct Model {
    /// The distribution name (`pip install` name), such as `calculator-client`.
    pub package_name: String,
    /// The import name, such as `calculator_client`.
    pub import_name: String,
    /// The package's version.
    pub package_version: String,
    /// The service's wire name.
    pub service_name: String,
    /// One line about the package, as a TOML string.
    pub summary: String,
    /// The `Client` class docstring, indented for a class body.
    pub client_docs: String,
    /// The declarations of `types.py`, in order.
    pub decls: Vec<Decl>,
    /// Names `types.py` exports, sorted.
    pub type_exports: Vec<String>,
    /// Runtime names `types.py` imports.
    pub types_imports: Vec<String>,
    /// Names `client.py` imports from `types.py`.
    pub client_type_imports: Vec<String>,
    /// The namespace classes; the first is the root (`Client`).
    pub namespaces: Vec<Namespace>,
    /// Methods the server calls on the client.
    pub handlers: Vec<HandlerMethod>,
    /// Exception classes of methods with a typed error.
    pub method_errors: Vec<MethodError>,
    /// Example calls for the README, one per call shape the service has.
    pub examples: Vec<String>,
    /// The class of `client.topics`.
    pub topics_class: String,
    /// The class of `client.states`.
    pub states_class: String,
    /// The schema's topics the server publishes, each a method of `client.topics`.
    pub topics: Vec<PySubscribe>,
    /// The schema's topics clients publish, each a `publish_` method of `client.topics`.
    pub publishes: Vec<PyPublish>,
    /// The schema's shared states, each a method of `client.states`.
    pub states: Vec<PySubscribe>,
    /// Topics whose values need decoding: wire name literal and decoder, for
    /// `client.topics.subscribe(pattern)`.
    pub topic_decoders: Vec<(String, String)>,
    /// Whether a method the client calls streams (either way): the SDK gets the
    /// `streams` runtime module.
    pub streams: bool,
    /// The state machines, each a session class on `client.machines`.
    pub machines: Vec<PyMachine>,
    /// The classes and aliases `client.py` declares for the machines, sorted.
    pub machine_exports: Vec<String>,
}

impl Model {
    /// Whether the server calls the client: the SDK gets `server_calls`.
    pub fn serves(&self) -> bool {
        !self.handlers.is_empty()
    }

    /// Whether the schema declares topics: the SDK gets `topics` and `client.topics`.
    pub fn has_topics(&self) -> bool {
        !self.topics.is_empty() || !self.publishes.is_empty()
    }

    /// Whether the schema declares shared states: the SDK gets `state` (and `patch`)
    /// and `client.states`.
    pub fn has_states(&self) -> bool {
        !self.states.is_empty()
    }

    /// Whether the schema declares state machines: the SDK gets `machines` and
    /// `client.machines`.
    pub fn has_machines(&self) -> bool {
        !self.machines.is_empty()
    }

    /// Whether a method may answer as an operation: the SDK gets `operations` and
    /// `client.operation(id)`.
    pub fn has_operations(&self) -> bool {
        self.namespaces.iter().any(|ns| ns.methods.iter().any(|f| f.runtime == "operation"))
    }

    /// The extensions `Client.connect` installs when connecting, so they see frames
    /// before topics do.
    pub fn extensions(&self) -> String {
        let mut list = vec![];
        if self.has_machines() {
            list.push("Machines");
        }
        if self.has_operations() {
            list.push("Operations");
        }
        if self.serves() {
            list.push("ServerCalls.of(table)");
        }
        list.join(", ")
    }
}

/// A method of `client.topics` (one topic) or `client.states` (one shared state).
#[derive(Debug, Clone)]
pub struct PySubscribe {
    /// The member name (escaped).
    pub member: String,
    /// The topic's or state's wire name as a string literal.
    pub wire: String,
    /// The wire name as it is, for docs.
    pub name: String,
    /// The value's annotation.
    pub annotation: String,
    /// The value's decoder (a callable).
    pub decode: String,
    /// The docstring, indented for a method body.
    pub docs: String,
    /// The `def` line (or lines).
    pub header: String,
}

/// A topic the client publishes: a `publish_` method of `client.topics`.
#[derive(Debug, Clone)]
pub struct PyPublish {
    /// The topic's wire name as a string literal.
    pub wire: String,
    /// The expression that puts `payload` on the wire.
    pub encode: String,
    /// The docstring, indented for a method body.
    pub docs: String,
    /// The `def` line (or lines).
    pub header: String,
}

/// A declaration in `types.py`.
#[derive(Debug, Clone)]
pub enum Decl {
    /// A dataclass.
    Class(PyClass),
    /// `Name: TypeAlias = ...`, with a decoder function when values need converting.
    Alias(PyAlias),
    /// A serde enum with data: a union of variant classes and a decoder dispatching on
    /// the tag.
    Tagged(PyTagged),
    /// An untagged union and a decoder trying each alternative in order.
    Union(PyUnion),
}

/// A dataclass.
#[derive(Debug, Clone)]
pub struct PyClass {
    /// The class name.
    pub name: String,
    /// The docstring, indented for the class body (empty for none).
    pub docs: String,
    /// The fields.
    pub fields: Vec<PyField>,
    /// Whether `to_wire` builds a dict `d` from the fields.
    pub builds_dict: bool,
    /// What `to_wire` returns.
    pub encode_return: String,
    /// What `from_wire` reads the fields from (an expression on `v`).
    pub decode_payload: String,
    /// The wire keys of the fields, as a Python tuple, for collecting other keys.
    pub known_keys: String,
    /// Whether it has a field for other keys.
    pub has_extra: bool,
}

/// How a field goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Always sent.
    Required,
    /// Left out when `None`.
    Optional,
    /// A flattened value: its map's keys are merged into this one's.
    Flatten,
    /// Other keys (a flattened map).
    Extra,
    /// The whole payload (a newtype or tuple variant).
    Value,
}

/// A dataclass field.
#[derive(Debug, Clone)]
pub struct PyField {
    /// The attribute name (escaped).
    pub attr: String,
    /// The annotation.
    pub annotation: String,
    /// ` = None`, ` = field(default_factory=dict)`, or empty.
    pub default: String,
    /// How it goes on the wire.
    pub kind: FieldKind,
    /// The wire key as a Python string literal (empty for flattened and extra fields).
    pub wire: String,
    /// The value to send (an expression on `self.attr`).
    pub encode: String,
    /// The value read (an expression on `d`).
    pub decode: String,
}

/// A type alias.
#[derive(Debug, Clone)]
pub struct PyAlias {
    /// The name.
    pub name: String,
    /// The docstring after the alias (unindented), or empty.
    pub docs: String,
    /// The right-hand side (quoted when it names classes).
    pub value: String,
    /// The decoder function's name, when values need converting.
    pub decoder: Option<String>,
    /// The decoder's body expression on `v`.
    pub decode: String,
}

/// A tagged union.
#[derive(Debug, Clone)]
pub struct PyTagged {
    /// The alias name.
    pub name: String,
    /// The docstring after the alias, or empty.
    pub docs: String,
    /// The right-hand side of the alias.
    pub value: String,
    /// The decoder function's name.
    pub decoder: String,
    /// How the decoder finds the tag (an expression on `v`).
    pub tag_expr: String,
    /// The variants: tag literal and class.
    pub variants: Vec<(String, String)>,
}

/// An untagged union.
#[derive(Debug, Clone)]
pub struct PyUnion {
    /// The alias name.
    pub name: String,
    /// The docstring after the alias, or empty.
    pub docs: String,
    /// The right-hand side of the alias.
    pub value: String,
    /// The decoder function's name.
    pub decoder: String,
    /// The alternatives, in order.
    pub alternatives: Vec<Alternative>,
}

/// One alternative of an untagged union.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// Whether `v` may be of it (an expression on `v`).
    pub guard: String,
    /// The decoded value (an expression on `v`).
    pub decode: String,
    /// Whether decoding may fail, so the next alternative is tried.
    pub fallible: bool,
}

/// A class in `client.py` grouping the methods of one dotted prefix.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// The class name (`Client` for the root).
    pub class_name: String,
    /// The dotted prefix, such as `calc.`.
    pub prefix: String,
    /// Its methods.
    pub methods: Vec<PyMethod>,
    /// Nested namespaces: attribute and class.
    pub children: Vec<(String, String)>,
}

/// A server method.
#[derive(Debug, Clone)]
pub struct PyMethod {
    /// The member name (escaped).
    pub member: String,
    /// The wire name as a string literal.
    pub wire: String,
    /// The docstring, indented for a method body.
    pub docs: String,
    /// The `def` line (or lines), without the trailing colon's newline.
    pub header: String,
    /// The parameters.
    pub params: Vec<PyParam>,
    /// `unary`, `client_stream` or `stream` (server and bidirectional streams).
    pub runtime: &'static str,
    /// The result or item decoder.
    pub decode: String,
    /// `items` for client and bidi streams, else `None`.
    pub items: &'static str,
    /// The method's error class, or `None`.
    pub error: String,
    /// For an operation (`runtime` is `operation`): the progress decoder.
    pub progress: String,
}

/// A parameter of a server method.
#[derive(Debug, Clone)]
pub struct PyParam {
    /// The argument name (escaped).
    pub arg: String,
    /// The wire name as a string literal.
    pub wire: String,
    /// Left out when `None`.
    pub optional: bool,
    /// The value to send (an expression on the argument).
    pub encode: String,
}

/// A method the client serves.
#[derive(Debug, Clone)]
pub struct HandlerMethod {
    /// The wire name as a string literal.
    pub wire: String,
    /// The Protocol method's name.
    pub member: String,
    /// The docstring, indented for a method body.
    pub docs: String,
    /// `async def` for unary and client streams, `def` for streams (async generators).
    pub def: &'static str,
    /// The `def` line (or lines).
    pub header: String,
    /// The call shape's wire name.
    pub kind: &'static str,
    /// The call made from the raw params `p` and `items`.
    pub invoke: String,
}

/// The exception class of a method's `APPLICATION` errors.
#[derive(Debug, Clone)]
pub struct MethodError {
    /// The class name.
    pub name: String,
    /// The method's wire name.
    pub method: String,
    /// The `data` annotation.
    pub annotation: String,
    /// The decoder applied to `error.data`.
    pub decode: String,
}

impl Model {
    /// Works out the Python model of a service.
    pub fn new(service: &Service, settings: &Settings) -> Model {
        let mut cx = Cx { def_types: service.types.iter().map(|d| (d.name.clone(), d.ty.clone())).collect(), ..Cx::default() };
        declare_defs(&mut cx, service);

        let mut built = Methods::new();
        // Methods named `volley.*` are the protocol's own (PROTOCOL.md section 9): the
        // runtime calls them (topics, states), so they get no typed members.
        for m in service.methods.iter().filter(|m| !is_reserved_method(&m.name)) {
            built.add(&mut cx, m);
        }
        let Methods { namespaces, handlers, method_errors, examples, .. } = built;

        // Topics and shared states: a method each on `client.topics` / `client.states`.
        let (topics, publishes, topic_decoders) = topics(&mut cx, service);
        let states = states(&mut cx, service);
        let machines = super::machines::machines(&mut cx, service);
        let topics_class = cx.type_name("Topics");
        let states_class = cx.type_name("States");

        let type_exports = type_exports(&cx.decls);
        let client_type_imports = type_exports.clone();

        let package_name = settings.package_name.clone().unwrap_or_else(|| package_name(&service.name));
        let import_name = import_name(&package_name);
        let package_version = settings
            .package_version
            .clone()
            .or_else(|| service.version.clone())
            .unwrap_or_else(|| "0.0.0".into());
        let summary = service
            .description
            .clone()
            .unwrap_or_else(|| format!("Typed client for the {} volley service", service.name));
        let mut types_imports: Vec<String> = cx.runtime_used.iter().map(|s| s.to_string()).collect();
        types_imports.sort();
        let streams = namespaces.iter().any(|ns| ns.methods.iter().any(|f| f.runtime == "stream" || f.runtime == "client_stream"));
        Model {
            package_name,
            import_name,
            package_version,
            service_name: service.name.clone(),
            summary: py_str(summary.lines().next().unwrap_or_default()),
            client_docs: docstring(&client_docs(service), 4),
            decls: cx.decls,
            type_exports,
            types_imports,
            client_type_imports,
            namespaces,
            handlers,
            method_errors,
            examples: examples.into_values().collect(),
            topics_class,
            states_class,
            topics,
            publishes,
            states,
            topic_decoders,
            streams,
            machine_exports: {
                let mut names: Vec<String> = machines
                    .iter()
                    .flat_map(|m| [m.session_class.clone(), m.state_alias.clone()].into_iter().chain(m.states.iter().map(|s| s.class.clone())))
                    .collect();
                names.sort();
                names
            },
            machines,
        }
    }
}

/// Names every `$defs` type (and its decoder) first, so hoisted names never take one,
/// then declares them.
fn declare_defs(cx: &mut Cx, service: &Service) {
    // Reserve every $defs name first, so hoisted names never take one.
    for def in &service.types {
        let name = cx.type_name(&def.name);
        let (decoder, admits_string) = match &def.ty {
            Type::Object(_) | Type::AllOf(_) => (Some(format!("{name}.from_wire")), false),
            Type::Tagged(t) => (
                Some(format!("decode_{name}")),
                t.tagging == Tagging::External && t.variants.iter().any(|v| v.payload == Payload::Unit),
            ),
            Type::Union(_) => (Some(format!("decode_{name}")), true),
            _ => (None, false),
        };
        if let Some(d) = &decoder {
            cx.taken.insert(d.clone());
        }
        cx.defs.insert(def.name.clone(), Named { name, decoder, admits_string });
    }
    // Aliases whose values need converting get a decoder function too.
    for def in &service.types {
        if cx.defs[&def.name].decoder.is_none() && !cx.is_identity(&def.ty, &mut BTreeSet::new()) {
            let name = format!("decode_{}", cx.defs[&def.name].name);
            cx.taken.insert(name.clone());
            cx.defs.get_mut(&def.name).expect("declared").decoder = Some(name);
        }
    }
    for def in &service.types {
        let named = cx.defs[&def.name].clone();
        let mut docs = doc_text(&def.description);
        if named.name != def.name {
            docs.push(format!("`{}` on the server.", def.name));
        }
        cx.declare(&named, &def.ty, docs);
    }
}

/// The names `types.py` exports, sorted: each declaration and its decoder.
fn type_exports(decls: &[Decl]) -> Vec<String> {
    let mut type_exports = vec![];
    for d in decls {
        match d {
            Decl::Class(c) => type_exports.push(c.name.clone()),
            Decl::Alias(a) => {
                type_exports.push(a.name.clone());
                type_exports.extend(a.decoder.clone());
            }
            Decl::Tagged(t) => type_exports.extend([t.name.clone(), t.decoder.clone()]),
            Decl::Union(u) => type_exports.extend([u.name.clone(), u.decoder.clone()]),
        }
    }
    type_exports.sort();
    type_exports
}

/// `client.topics`: a subscribe method per topic, and the decoders of the payloads that
/// need one.
fn topics(cx: &mut Cx, service: &Service) -> (Vec<PySubscribe>, Vec<PyPublish>, Vec<(String, String)>) {
    let mut topic_members: BTreeSet<String> = TOPICS_MEMBERS.iter().map(|s| s.to_string()).collect();
    let mut topics = vec![];
    let mut publishes = vec![];
    let mut topic_decoders = vec![];
    for t in service.topics.iter().filter(|t| t.from_client) {
        let ty = cx.py(&t.payload, &format!("{}Notification", pascal(std::slice::from_ref(&t.name))));
        let member = unique(&mut topic_members, &format!("publish_{}", t.name));
        let encode = if cx.is_identity(&t.payload, &mut BTreeSet::new()) { "payload".to_owned() } else { "to_wire(payload)".to_owned() };
        let mut lines = doc_text(&t.description);
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("Sends the server a notification on `{}` (fire and forget).", t.name));
        lines.push(String::new());
        lines.push("The server handles one connection's notifications in the order sent; one it".into());
        lines.push("cannot handle comes back as a `WARNING` naming the topic, to `on_warning`.".into());
        lines.push(String::new());
        lines.push("Raises:".into());
        lines.push("    VolleyConnectionError: The connection is closed.".into());
        publishes.push(PyPublish {
            header: def_header("async def", &member, &[format!("payload: {}", ty.ann)], "None"),
            wire: py_str(&t.name),
            encode,
            docs: docstring(&lines, 8),
        });
    }
    for t in service.topics.iter().filter(|t| !t.from_client) {
        let ty = cx.py(&t.payload, &format!("{}Notification", pascal(std::slice::from_ref(&t.name))));
        let member = unique(&mut topic_members, &t.name);
        let decode = ty.dec.clone().unwrap_or_else(|| "identity".into());
        if ty.dec.is_some() {
            topic_decoders.push((py_str(&t.name), decode.clone()));
        }
        let mut lines = doc_text(&t.description);
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("Subscribes to the topic `{}`; its notifications are `{}`.", t.name, ty.ann));
        lines.push(String::new());
        lines.push("Args:".into());
        lines.push("    buffer: How many notifications wait for a slow reader.".into());
        lines.push("    overflow: Which one goes when the buffer is full: `\"drop_oldest\"` or".into());
        lines.push("        `\"drop_newest\"`; `Subscription.dropped` counts them.".into());
        lines.push(String::new());
        lines.push("Returns:".into());
        lines.push("    A `Subscription`: `async with` it to subscribe (unsubscribing at the end of".into());
        lines.push("    the block) and read the values with `async for`.".into());
        let args = vec![
            "*".to_string(),
            "buffer: int = DEFAULT_TOPIC_BUFFER".to_string(),
            "overflow: Overflow = \"drop_oldest\"".to_string(),
        ];
        topics.push(PySubscribe {
            header: def_header("def", &member, &args, &format!("Subscription[{}]", ty.ann)),
            member,
            wire: py_str(&t.name),
            name: t.name.clone(),
            annotation: ty.ann,
            decode,
            docs: docstring(&lines, 8),
        });
    }
    (topics, publishes, topic_decoders)
}

/// `client.states`: a mirror method per shared state.
fn states(cx: &mut Cx, service: &Service) -> Vec<PySubscribe> {
    let mut state_members: BTreeSet<String> = STATES_MEMBERS.iter().map(|s| s.to_string()).collect();
    let mut states = vec![];
    for st in &service.states {
        let ty = cx.py(&st.schema, &format!("{}State", pascal(std::slice::from_ref(&st.name))));
        let member = unique(&mut state_members, &st.name);
        let mut lines = doc_text(&st.description);
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("Mirrors the shared state `{}`, a `{}`.", st.name, ty.ann));
        lines.push(String::new());
        lines.push("Args:".into());
        lines.push("    buffer: How many snapshots wait for a slow reader (the oldest go first).".into());
        lines.push(String::new());
        lines.push("Returns:".into());
        lines.push("    A `SharedState`: `async with` it to subscribe (unsubscribing at the end of".into());
        lines.push("    the block); `.value` is the current document, `async for` yields a snapshot".into());
        lines.push("    per change and `await .wait_for(predicate)` waits for one.".into());
        let args = vec!["*".to_string(), "buffer: int = DEFAULT_STATE_BUFFER".to_string()];
        states.push(PySubscribe {
            header: def_header("def", &member, &args, &format!("SharedState[{}]", ty.ann)),
            member,
            wire: py_str(&st.name),
            name: st.name.clone(),
            annotation: ty.ann,
            decode: ty.dec.unwrap_or_else(|| "identity".into()),
            docs: docstring(&lines, 8),
        });
    }
    states
}
