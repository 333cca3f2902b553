//! The Python model: every name, annotation, decoder and docstring the templates print,
//! worked out from the IR. Templates only lay these out.
//!
//! Types become dataclasses (`kw_only`, so field order never matters) with `to_wire`
//! and `from_wire`; serde enums with data become one dataclass per variant and a union
//! alias with a `decode_<Name>` function; unit enums become `Literal` aliases. Inline
//! objects, enums and unions are hoisted into named declarations, named after where
//! they appear.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{doc_text, is_reserved_method, package_name, pascal};
use crate::ir::{Field, Literal, Payload, Service, Shape, Tagging, Type};
use crate::output::Settings;

use super::keywords::{is_reserved, CLASS_MEMBERS, RUNTIME, STATES_MEMBERS, TOPICS_MEMBERS};
use super::methods::Methods;

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
    /// The schema's topics, each a method of `client.topics`.
    pub topics: Vec<PySubscribe>,
    /// The schema's shared states, each a method of `client.states`.
    pub states: Vec<PySubscribe>,
    /// Topics whose values need decoding: wire name literal and decoder, for
    /// `client.topics.subscribe(pattern)`.
    pub topic_decoders: Vec<(String, String)>,
    /// Whether a method the client calls streams (either way): the SDK gets the
    /// `streams` runtime module.
    pub streams: bool,
}

impl Model {
    /// Whether the server calls the client: the SDK gets `server_calls`.
    pub fn serves(&self) -> bool {
        !self.handlers.is_empty()
    }

    /// Whether the schema declares topics: the SDK gets `topics` and `client.topics`.
    pub fn has_topics(&self) -> bool {
        !self.topics.is_empty()
    }

    /// Whether the schema declares shared states: the SDK gets `state` (and `patch`)
    /// and `client.states`.
    pub fn has_states(&self) -> bool {
        !self.states.is_empty()
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

/// What a named type became.
#[derive(Debug, Clone)]
struct Named {
    name: String,
    /// The decoder callable, or `None` when values arrive as they are.
    decoder: Option<String>,
    /// Whether the guard of an untagged union may admit a string (external tagging
    /// with unit variants).
    admits_string: bool,
}

/// A Python type: its annotation and decoder.
pub(super) struct PyTy {
    /// The annotation.
    pub(super) ann: String,
    /// A callable, or `None` for identity.
    pub(super) dec: Option<String>,
    /// Whether the annotation names a generated class (so an alias must be quoted).
    names_class: bool,
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
        let (topics, topic_decoders) = topics(&mut cx, service);
        let states = states(&mut cx, service);
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
        let streams = namespaces.iter().any(|ns| ns.methods.iter().any(|f| f.runtime != "unary"));
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
            states,
            topic_decoders,
            streams,
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

/// The `Client` class's docstring: the service's description, what it is, how to
/// connect.
fn client_docs(service: &Service) -> Vec<String> {
    let mut client_lines = doc_text(&service.description);
    if !client_lines.is_empty() {
        client_lines.push(String::new());
    }
    client_lines.push(format!(
        "A client of the `{}` service{}.",
        service.name,
        service.version.as_ref().map(|v| format!(" (version {v})")).unwrap_or_default()
    ));
    client_lines.push(String::new());
    client_lines.push("Connect with `async with Client.connect(url) as client:` (or".into());
    client_lines.push("`client = await Client.connect(url)` and `await client.close()`).".into());
    client_lines
}

/// `client.topics`: a subscribe method per topic, and the decoders of the payloads that
/// need one.
fn topics(cx: &mut Cx, service: &Service) -> (Vec<PySubscribe>, Vec<(String, String)>) {
    let mut topic_members: BTreeSet<String> = TOPICS_MEMBERS.iter().map(|s| s.to_string()).collect();
    let mut topics = vec![];
    let mut topic_decoders = vec![];
    for t in &service.topics {
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
    (topics, topic_decoders)
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

/// What annotations and declarations are worked out with.
#[derive(Default)]
pub(super) struct Cx {
    /// Type-level names in use.
    pub(super) taken: BTreeSet<String>,
    /// What each `$defs` name became.
    defs: BTreeMap<String, Named>,
    /// The declarations, in order.
    decls: Vec<Decl>,
    /// Runtime helpers `types.py` uses.
    runtime_used: BTreeSet<&'static str>,
    /// Hoisted inline types already declared, by the name they were given.
    hoisted: BTreeSet<String>,
    /// The type of each `$defs` name.
    def_types: BTreeMap<String, Type>,
}

impl Cx {
    /// A fresh type-level name: an identifier, not reserved, not taken.
    pub(super) fn type_name(&mut self, wanted: &str) -> String {
        let mut name = identifier(wanted);
        while is_reserved(&name) || RUNTIME.contains(&name.as_str()) || self.taken.contains(&name) {
            name.push('_');
        }
        self.taken.insert(name.clone());
        name
    }

    /// Whether values of `t` arrive as their Python value, needing no conversion.
    pub(super) fn is_identity(&self, t: &Type, visiting: &mut BTreeSet<String>) -> bool {
        match t {
            Type::Any | Type::Null | Type::Bool | Type::Integer { .. } | Type::Number | Type::String => true,
            Type::Literal(_) | Type::Enum(_) => true,
            Type::Nullable(i) | Type::List(i) | Type::Map(i) => self.is_identity(i, visiting),
            Type::Object(o) => o.fields.is_empty() && o.additional.as_ref().is_none_or(|a| self.is_identity(a, visiting)),
            Type::Union(alts) => alts.iter().all(|a| self.is_identity(a, visiting)),
            Type::Bytes | Type::Tuple(_) | Type::Tagged(_) | Type::AllOf(_) => false,
            Type::Ref(n) => {
                let Some(named) = self.defs.get(n) else { return true };
                if named.decoder.is_some() {
                    return false;
                }
                // An alias: look through it, once.
                if !visiting.insert(n.clone()) {
                    return false;
                }
                let target = self.def_types.get(n).cloned();
                let r = target.is_none_or(|t| self.is_identity(&t, visiting));
                visiting.remove(n);
                r
            }
        }
    }

    fn use_runtime(&mut self, name: &'static str) -> String {
        self.runtime_used.insert(name);
        name.to_string()
    }

    /// The annotation and decoder of a type, hoisting inline classes and unions into
    /// declarations named `ctx`.
    pub(super) fn py(&mut self, t: &Type, ctx: &str) -> PyTy {
        let simple = |ann: &str| PyTy { ann: ann.into(), dec: None, names_class: false };
        match t {
            Type::Any => simple("Any"),
            Type::Null => simple("None"),
            Type::Bool => simple("bool"),
            Type::Integer { .. } => simple("int"),
            Type::Number => simple("float"),
            Type::String => simple("str"),
            Type::Bytes => PyTy { ann: "bytes".into(), dec: Some(self.use_runtime("decode_bytes")), names_class: false },
            Type::Literal(l) => simple(&literal_annotation(l)),
            Type::Enum(values) => {
                simple(&format!("Literal[{}]", values.iter().map(|v| py_str(&v.value)).collect::<Vec<_>>().join(", ")))
            }
            Type::Nullable(inner) => {
                let i = self.py(inner, ctx);
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("optional")));
                PyTy { ann: nullable(&i.ann), dec, names_class: i.names_class }
            }
            Type::List(item) => {
                let i = self.py(item, &format!("{ctx}Item"));
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("list_of")));
                PyTy { ann: format!("list[{}]", i.ann), dec, names_class: i.names_class }
            }
            Type::Map(value) => {
                let i = self.py(value, &format!("{ctx}Value"));
                let dec = i.dec.map(|d| format!("{}({d})", self.use_runtime("map_of")));
                PyTy { ann: format!("dict[str, {}]", i.ann), dec, names_class: i.names_class }
            }
            Type::Tuple(items) => {
                let parts: Vec<PyTy> = items.iter().enumerate().map(|(i, t)| self.py(t, &format!("{ctx}{i}"))).collect();
                if parts.is_empty() {
                    return PyTy { ann: "tuple[()]".into(), dec: Some("lambda x: ()".into()), names_class: false };
                }
                let ann = format!("tuple[{}]", parts.iter().map(|p| p.ann.as_str()).collect::<Vec<_>>().join(", "));
                let reads: Vec<String> =
                    parts.iter().enumerate().map(|(i, p)| apply(&p.dec, &format!("x[{i}]"))).collect();
                let comma = if reads.len() == 1 { "," } else { "" };
                let dec = format!("lambda x: ({}{comma})", reads.join(", "));
                PyTy { ann, dec: Some(dec), names_class: parts.iter().any(|p| p.names_class) }
            }
            Type::Object(o) if o.fields.is_empty() => {
                let value = o.additional.as_deref().cloned().unwrap_or(Type::Any);
                self.py(&Type::Map(Box::new(value)), ctx)
            }
            Type::Object(_) | Type::AllOf(_) | Type::Tagged(_) => {
                let name = self.hoist(t, ctx);
                let dec = match t {
                    Type::Tagged(_) => format!("decode_{name}"),
                    _ => format!("{name}.from_wire"),
                };
                PyTy { ann: name, dec: Some(dec), names_class: true }
            }
            Type::Union(alts) => {
                let parts: Vec<PyTy> = alts.iter().enumerate().map(|(i, a)| self.py(a, &format!("{ctx}{i}"))).collect();
                if parts.iter().all(|p| p.dec.is_none()) {
                    let ann = union_annotation(parts.iter().map(|p| p.ann.clone()));
                    return PyTy { ann, dec: None, names_class: parts.iter().any(|p| p.names_class) };
                }
                let name = self.hoist(t, ctx);
                PyTy { ann: name.clone(), dec: Some(format!("decode_{name}")), names_class: true }
            }
            Type::Ref(n) => {
                let named = &self.defs[n];
                PyTy { ann: named.name.clone(), dec: named.decoder.clone(), names_class: true }
            }
        }
    }

    /// Declares an inline type under a name derived from `ctx`; answers the name.
    fn hoist(&mut self, t: &Type, ctx: &str) -> String {
        let name = self.type_name(ctx);
        if self.hoisted.insert(name.clone()) {
            let decoder = match t {
                Type::Tagged(_) | Type::Union(_) => Some(format!("decode_{name}")),
                _ => Some(format!("{name}.from_wire")),
            };
            let named = Named { name: name.clone(), decoder, admits_string: false };
            self.declare(&named, t, vec![]);
        }
        name
    }

    /// Declares a named type.
    fn declare(&mut self, named: &Named, t: &Type, docs: Vec<String>) {
        let name = named.name.clone();
        match t {
            Type::Object(o) => {
                let class = self.class(&name, docs, &o.fields, &[], o.additional.as_deref(), None, Wrap::Struct);
                self.decls.push(Decl::Class(class));
            }
            Type::AllOf(parts) => {
                let (fields, flattened, extra) = split_parts(parts);
                let class = self.class(&name, docs, &fields, &flattened, extra.as_ref(), None, Wrap::Struct);
                self.decls.push(Decl::Class(class));
            }
            Type::Tagged(tagged) => {
                let mut variants = vec![];
                let mut classes = vec![];
                let mut lines = docs;
                for v in &tagged.variants {
                    let class_name = self.type_name(&format!("{name}{}", pascal(std::slice::from_ref(&v.name))));
                    let mut vdocs = doc_text(&v.description);
                    vdocs.push(String::new());
                    vdocs.push(format!("The `{}` variant of `{name}`.", v.name));
                    let wrap = Wrap::Variant(tagged.tagging.clone(), v.name.clone());
                    let class = match &v.payload {
                        Payload::Unit => self.class(&class_name, vdocs, &[], &[], None, None, wrap),
                        Payload::Fields(fs) => self.class(&class_name, vdocs, fs, &[], None, None, wrap),
                        Payload::Value(Type::AllOf(parts)) if matches!(tagged.tagging, Tagging::Internal { .. }) => {
                            let (fields, flattened, extra) = split_parts(parts);
                            self.class(&class_name, vdocs, &fields, &flattened, extra.as_ref(), None, wrap)
                        }
                        Payload::Value(t) => self.class(&class_name, vdocs, &[], &[], None, Some(t), wrap),
                    };
                    classes.push(class);
                    variants.push((py_str(&v.name), class_name));
                }
                for c in classes {
                    self.decls.push(Decl::Class(c));
                }
                if lines.is_empty() {
                    lines.push(format!("One of the variants of `{name}`."));
                }
                let value = quoted(&union_annotation(variants.iter().map(|(_, c)| c.clone())));
                let tag_expr = match &tagged.tagging {
                    Tagging::External => "v if isinstance(v, str) else next(iter(v))".to_string(),
                    Tagging::Internal { tag } | Tagging::Adjacent { tag, .. } => format!("v[{}]", py_str(tag)),
                };
                self.decls.push(Decl::Tagged(PyTagged {
                    decoder: format!("decode_{name}"),
                    name,
                    docs: docstring(&lines, 0),
                    value,
                    tag_expr,
                    variants,
                }));
            }
            Type::Union(alts) => {
                let mut anns = vec![];
                let mut alternatives = vec![];
                for (i, a) in alts.iter().enumerate() {
                    let p = self.py(a, &format!("{name}{i}"));
                    anns.push(p.ann.clone());
                    let fallible = p.dec.is_some();
                    alternatives.push(Alternative { guard: self.guard(a), decode: apply(&p.dec, "v"), fallible });
                }
                self.use_runtime("is_number");
                self.use_runtime("is_integer");
                self.decls.push(Decl::Union(PyUnion {
                    decoder: format!("decode_{name}"),
                    name,
                    docs: docstring(&docs, 0),
                    value: quoted(&union_annotation(anns)),
                    alternatives,
                }));
            }
            other => {
                let p = self.py(other, &format!("{name}Value"));
                let value = if p.names_class { quoted(&p.ann) } else { p.ann.clone() };
                let decode = apply(&p.dec, "v");
                self.decls.push(Decl::Alias(PyAlias {
                    name: name.clone(),
                    docs: docstring(&docs, 0),
                    value,
                    decoder: named.decoder.clone(),
                    decode,
                }));
            }
        }
    }

    /// Whether a wire value `v` may be of type `t`: a cheap check before decoding.
    fn guard(&self, t: &Type) -> String {
        match t {
            Type::Any | Type::Union(_) => "True".into(),
            Type::Null => "v is None".into(),
            Type::Bool => "isinstance(v, bool)".into(),
            Type::Integer { .. } => "is_integer(v)".into(),
            Type::Number => "is_number(v)".into(),
            Type::String => "isinstance(v, str)".into(),
            Type::Literal(l) => format!("v == {}", literal_value(l)),
            Type::Enum(values) => {
                format!("v in ({},)", values.iter().map(|v| py_str(&v.value)).collect::<Vec<_>>().join(", "))
            }
            Type::Nullable(i) => format!("v is None or ({})", self.guard(i)),
            Type::Bytes | Type::List(_) | Type::Tuple(_) => "isinstance(v, (list, tuple, bytes))".into(),
            Type::Map(_) | Type::Object(_) | Type::AllOf(_) => "isinstance(v, dict)".into(),
            Type::Tagged(_) => "isinstance(v, (dict, str))".into(),
            Type::Ref(n) => {
                let named = &self.defs[n];
                match self.def_types.get(n) {
                    Some(Type::Union(_)) => "True".into(),
                    Some(Type::Tagged(_)) if named.admits_string => "isinstance(v, (dict, str))".into(),
                    Some(Type::Tagged(_)) | Some(Type::Object(_)) | Some(Type::AllOf(_)) => "isinstance(v, dict)".into(),
                    Some(other) => {
                        let other = other.clone();
                        if matches!(other, Type::Ref(_)) { "True".into() } else { self.guard(&other) }
                    }
                    None => "True".into(),
                }
            }
        }
    }

    /// A named field of a class: its attribute (escaped among `attrs`), annotation,
    /// encoding and decoding, and its line of the docstring.
    fn named_field(&mut self, attrs: &mut BTreeSet<String>, name: &str, f: &Field) -> (PyField, (String, String)) {
        let attr = unique(attrs, &f.name);
        let ty = self.py(&f.ty, &format!("{name}{}", pascal(std::slice::from_ref(&f.name))));
        let identity = self.is_identity(&f.ty, &mut BTreeSet::new());
        let encode = if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") };
        let wire = py_str(&f.name);
        let (annotation, default, kind, decode) = if f.optional {
            let dec = ty.dec.as_ref().map(|d| format!("{}({d})", self.use_runtime("optional")));
            (nullable(&ty.ann), " = None".to_string(), FieldKind::Optional, apply(&dec, &format!("d.get({wire})")))
        } else {
            (ty.ann.clone(), String::new(), FieldKind::Required, apply(&ty.dec, &format!("d[{wire}]")))
        };
        let mut doc = field_doc(f);
        if attr != f.name {
            doc = format!("{doc} On the wire: `{}`.", f.name).trim().to_string();
        }
        if doc.is_empty() {
            doc = format!("`{annotation}`.");
        }
        (PyField { attr: attr.clone(), annotation, default, kind, wire, encode, decode }, (attr, doc))
    }

    #[allow(clippy::too_many_arguments)]
    fn class(
        &mut self,
        name: &str,
        docs: Vec<String>,
        fields: &[Field],
        flattened: &[Type],
        extra: Option<&Type>,
        value: Option<&Type>,
        wrap: Wrap,
    ) -> PyClass {
        let mut attrs: BTreeSet<String> = CLASS_MEMBERS.iter().map(|s| s.to_string()).collect();
        attrs.extend(self.taken.iter().cloned());
        let mut out = vec![];
        let mut attr_docs = vec![];
        for f in fields {
            let (field, doc) = self.named_field(&mut attrs, name, f);
            attr_docs.push(doc);
            out.push(field);
        }
        for (i, t) in flattened.iter().enumerate() {
            let wanted = match t {
                Type::Ref(n) => snake(&self.defs[n].name),
                _ => "variant".to_string(),
            };
            let attr = unique(&mut attrs, &wanted);
            let ty = self.py(t, &format!("{name}{}", if i == 0 { "Variant".to_string() } else { format!("Variant{i}") }));
            attr_docs.push((attr.clone(), format!("Flattened: its keys sit beside the other fields on the wire ({}).", ty.ann)));
            out.push(PyField {
                annotation: ty.ann.clone(),
                default: String::new(),
                kind: FieldKind::Flatten,
                wire: String::new(),
                encode: format!("to_wire(self.{attr})"),
                decode: apply(&ty.dec, "d"),
                attr,
            });
        }
        let known: Vec<String> = fields.iter().map(|f| py_str(&f.name)).collect();
        if let Some(t) = extra {
            let attr = unique(&mut attrs, "extra");
            let ty = self.py(t, &format!("{name}Extra"));
            let identity = self.is_identity(t, &mut BTreeSet::new());
            attr_docs.push((attr.clone(), "Other keys, sent beside the fields.".into()));
            out.push(PyField {
                annotation: format!("dict[str, {}]", ty.ann),
                default: " = field(default_factory=dict)".into(),
                kind: FieldKind::Extra,
                wire: String::new(),
                encode: if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") },
                decode: format!("{{k: {} for k, x in d.items() if k not in cls._KNOWN}}", apply(&ty.dec, "x")),
                attr,
            });
        }
        let mut value_attr = None;
        if let Some(t) = value {
            let attr = unique(&mut attrs, "value");
            let ty = self.py(t, &format!("{name}Value"));
            let identity = self.is_identity(t, &mut BTreeSet::new());
            let encode = if identity { format!("self.{attr}") } else { format!("to_wire(self.{attr})") };
            attr_docs.push((attr.clone(), "The variant's value.".into()));
            out.push(PyField {
                annotation: ty.ann.clone(),
                default: String::new(),
                kind: FieldKind::Value,
                wire: String::new(),
                encode: encode.clone(),
                decode: apply(&ty.dec, "d"),
                attr,
            });
            value_attr = Some(encode);
        }
        if out.iter().any(|f| f.encode.starts_with("to_wire(")) {
            self.use_runtime("to_wire");
        }
        let builds_dict = value.is_none() && !out.is_empty();
        let (encode_return, decode_payload) = wrapping(&wrap, value_attr, out.is_empty());
        let lines = class_docs(name, docs, attr_docs);
        PyClass {
            name: name.to_string(),
            docs: docstring(&lines, 4),
            fields: out,
            builds_dict,
            encode_return,
            decode_payload,
            has_extra: extra.is_some(),
            known_keys: format!("({}{})", known.join(", "), if known.len() == 1 { "," } else { "" }),
        }
    }
}

/// What a class's `to_wire` returns around its dict `d` (or its value `e`), and where
/// `from_wire` finds its fields in the wire value `v`: serde's tagging of the variant.
fn wrapping(wrap: &Wrap, value_attr: Option<String>, no_fields: bool) -> (String, String) {
    match (wrap, value_attr) {
        (Wrap::Struct, _) => ("d".to_string(), "v".to_string()),
        (Wrap::Variant(Tagging::External, v), None) if no_fields => (py_str(v), "v".into()),
        (Wrap::Variant(Tagging::External, v), None) => (format!("{{{}: d}}", py_str(v)), format!("v[{}]", py_str(v))),
        (Wrap::Variant(Tagging::External, v), Some(e)) => {
            (format!("{{{}: {e}}}", py_str(v)), format!("v[{}]", py_str(v)))
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), None) if no_fields => {
            (format!("{{{}: {}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), None) => {
            (format!("{{{}: {}, **d}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Internal { tag }, v), Some(e)) => {
            (format!("{{{}: {}, **{e}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Adjacent { tag, .. }, v), None) if no_fields => {
            (format!("{{{}: {}}}", py_str(tag), py_str(v)), "v".into())
        }
        (Wrap::Variant(Tagging::Adjacent { tag, content }, v), None) => {
            (format!("{{{}: {}, {}: d}}", py_str(tag), py_str(v), py_str(content)), format!("v[{}]", py_str(content)))
        }
        (Wrap::Variant(Tagging::Adjacent { tag, content }, v), Some(e)) => {
            (format!("{{{}: {}, {}: {e}}}", py_str(tag), py_str(v), py_str(content)), format!("v[{}]", py_str(content)))
        }
    }
}

/// A class's docstring: its docs, then an `Attributes:` section.
fn class_docs(name: &str, docs: Vec<String>, attr_docs: Vec<(String, String)>) -> Vec<String> {
    let mut lines = docs;
    if !attr_docs.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push("Attributes:".into());
        for (a, d) in attr_docs {
            lines.push(if d.is_empty() { format!("    {a}: See the schema.") } else { format!("    {a}: {d}") });
        }
    }
    if lines.is_empty() {
        lines.push(format!("`{name}`."));
    }
    lines
}

enum Wrap {
    Struct,
    Variant(Tagging, String),
}

/// The parts of an `AllOf`: object fields, flattened values, and a flattened map's type.
fn split_parts(parts: &[Type]) -> (Vec<Field>, Vec<Type>, Option<Type>) {
    let mut fields = vec![];
    let mut flattened = vec![];
    let mut extra = None;
    for p in parts {
        match p {
            Type::Object(o) => {
                fields.extend(o.fields.iter().cloned());
                if let Some(a) = &o.additional {
                    extra = Some((**a).clone());
                }
            }
            Type::AllOf(inner) => {
                let (f, fl, e) = split_parts(inner);
                fields.extend(f);
                flattened.extend(fl);
                extra = extra.or(e);
            }
            other => flattened.push(other.clone()),
        }
    }
    (fields, flattened, extra)
}

/// Renders an applied decoder: `dec(expr)`, or `expr` for identity.
pub(super) fn apply(dec: &Option<String>, expr: &str) -> String {
    match dec {
        None => expr.to_string(),
        Some(d) if d.starts_with("lambda ") => format!("({d})({expr})"),
        Some(d) => format!("{d}({expr})"),
    }
}

pub(super) fn nullable(ann: &str) -> String {
    if ann == "None" || ann == "Any" || ann.ends_with(" | None") {
        ann.to_string()
    } else {
        format!("{ann} | None")
    }
}

fn union_annotation(parts: impl IntoIterator<Item = String>) -> String {
    let mut seen = BTreeSet::new();
    let parts: Vec<String> = parts.into_iter().filter(|p| seen.insert(p.clone())).collect();
    if parts.iter().any(|p| p == "Any") {
        return "Any".into();
    }
    parts.join(" | ")
}

/// An annotation as the value of a type alias, quoted so it may name classes declared
/// later.
fn quoted(ann: &str) -> String {
    if ann.contains('\'') {
        py_str(ann)
    } else {
        format!("'{ann}'")
    }
}

fn literal_annotation(l: &Literal) -> String {
    match l {
        Literal::String(s) => format!("Literal[{}]", py_str(s)),
        Literal::Bool(b) => format!("Literal[{}]", if *b { "True" } else { "False" }),
        Literal::Number(n) if n.is_i64() || n.is_u64() => format!("Literal[{n}]"),
        Literal::Number(_) => "float".into(),
    }
}

fn literal_value(l: &Literal) -> String {
    match l {
        Literal::String(s) => py_str(s),
        Literal::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Literal::Number(n) => n.to_string(),
    }
}

pub(super) fn shape_phrase(kind: Shape) -> &'static str {
    match kind {
        Shape::Unary => "unary: one request, one answer",
        Shape::ServerStream => "server stream: one request, a stream of items back",
        Shape::ClientStream => "client stream: a stream of items, one answer",
        Shape::BidiStream => "bidirectional stream: items both ways",
    }
}

/// A field's doc: its description, constraints and default, on one line.
pub(super) fn field_doc(f: &Field) -> String {
    let mut parts = vec![];
    if let Some(d) = &f.description {
        parts.push(d.lines().map(str::trim).collect::<Vec<_>>().join(" "));
    }
    let phrases = f.constraints.phrases();
    if !phrases.is_empty() {
        parts.push(format!("Constraints: {}.", phrases.join(", ")));
    }
    if let Some(d) = &f.default {
        parts.push(format!("Default: `{d}`."));
    } else if f.optional {
        parts.push("Optional.".into());
    }
    parts.join(" ")
}

/// A method's `def` line, indented for a class body; wrapped one parameter a line when
/// it would be longer than 100 characters.
pub(super) fn def_header(def: &str, name: &str, args: &[String], returns: &str) -> String {
    let line = format!("    {def} {name}(self{}) -> {returns}:", args.iter().map(|a| format!(", {a}")).collect::<String>());
    if line.len() <= 100 {
        return line;
    }
    let mut out = format!("    {def} {name}(\n        self,\n");
    for a in args {
        out.push_str(&format!("        {a},\n"));
    }
    out.push_str(&format!("    ) -> {returns}:"));
    out
}

/// A README example of calling a method.
pub(super) fn example_call(ns: &Namespace, member: &str, params: &[PyParam], kind: Shape, value: &str) -> String {
    let path = if ns.prefix.is_empty() {
        format!("client.{member}")
    } else {
        format!("client.{}{member}", ns.prefix)
    };
    let args: Vec<String> = params.iter().filter(|p| !p.optional).map(|p| format!("{}=...", p.arg)).collect();
    let mut all = vec![];
    if kind.caller_streams() {
        all.push("items".to_string());
    }
    all.extend(args);
    let call = format!("{path}({})", all.join(", "));
    match kind {
        Shape::Unary => format!("result: {value} = await {call}"),
        Shape::ClientStream => format!("result: {value} = await {call}  # items: an (async) iterable"),
        Shape::ServerStream => format!("async with {call} as stream:\n    async for item in stream:  # {value}\n        ..."),
        Shape::BidiStream => {
            format!("async with {call} as stream:  # items: an (async) iterable\n    async for item in stream:  # {value}\n        ...")
        }
    }
}


/// A docstring block, indented by `indent` spaces, without a trailing newline; empty
/// for no text. Backslashes and `"""` in the text cannot end or break it.
pub fn docstring(lines: &[String], indent: usize) -> String {
    let mut lines: Vec<String> =
        lines.iter().map(|l| l.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")).collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    if lines.is_empty() {
        return String::new();
    }
    let pad = " ".repeat(indent);
    if lines.len() == 1 {
        let l = &lines[0];
        let end = if l.ends_with('"') { " " } else { "" };
        return format!("{pad}\"\"\"{l}{end}\"\"\"");
    }
    let mut out = format!("{pad}\"\"\"{}\n", lines[0]);
    for l in &lines[1..] {
        if l.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}{l}\n"));
        }
    }
    out.push_str(&format!("{pad}\"\"\""));
    out
}

/// A Python string literal in double quotes.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An ASCII identifier made of `wanted`: other characters become `_`, a leading digit
/// gets a `_` before it.
fn identifier(wanted: &str) -> String {
    let mut name: String = wanted.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A member, field or parameter name: an identifier, escaped away from keywords and
/// the names already taken by appending `_` (PEP 8's convention).
pub(super) fn unique(taken: &mut BTreeSet<String>, wanted: &str) -> String {
    let mut name = identifier(wanted);
    while is_reserved(&name) || taken.contains(&name) {
        name.push('_');
    }
    taken.insert(name.clone());
    name
}


/// `DivError` → `div_error`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out
}


/// The import name of a distribution: `calculator-client` → `calculator_client`.
fn import_name(package: &str) -> String {
    let mut name: String =
        package.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if is_reserved(&name) {
        name.push('_');
    }
    name
}
