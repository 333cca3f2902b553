//! The TypeScript model: every name, type expression and doc comment the templates
//! print, worked out from the IR. Templates only lay these out.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{doc_text, is_reserved_method, package_name, pascal};
use crate::ir::{self, Service};
use crate::output::Settings;

use super::docs::doc_lines;
use super::machines::{self, TsMachine};
use super::methods::Methods;
use super::names::{string_literal, Names};
use super::types::Cx;

/// Everything the TypeScript templates need.
#[derive(Debug, Clone)]
pub struct Model {
    /// The npm package's name.
    pub package_name: String,
    /// The npm package's version.
    pub package_version: String,
    /// The service's wire name.
    pub service_name: String,
    /// The service's description as one line, for package.json (JSON-escaped, quoted).
    pub package_description: String,
    /// A doc comment for the service, as lines.
    pub service_docs: Vec<String>,
    /// Named types for `types.ts`, in name order: `$defs` first, then parameter objects.
    pub types: Vec<TypeDecl>,
    /// The namespace classes of `client.ts`; the first is the root (`Client`).
    pub namespaces: Vec<Namespace>,
    /// Methods the server calls on the client (`"side": "client"`).
    pub handlers: Vec<Handler>,
    /// `MethodErrors` entries: methods with a typed error.
    pub method_errors: Vec<KeyedType>,
    /// `Topics` entries: the topics clients subscribe to.
    pub topics: Vec<KeyedType>,
    /// `ClientTopics` entries: the topics clients publish.
    pub client_topics: Vec<KeyedType>,
    /// `States` entries.
    pub states: Vec<KeyedType>,
    /// The state machines (`client.machines`).
    pub machines: Vec<TsMachine>,
    /// `MethodOperations` entries: each operation method's result and progress types.
    pub operations: Vec<(String, String, String)>,
    /// Names `client.ts` imports from `types.ts`.
    pub client_type_imports: Vec<String>,
    /// Type names `types.ts` imports from `runtime/codec.ts` (`WideInt`, `Bytes`).
    pub types_runtime_imports: Vec<String>,
    /// `client.ts`'s imports of the runtime, one per module, in module order.
    pub client_imports: Vec<RuntimeImport>,
    /// The runtime modules (`src/runtime/<name>.ts`) this service needs, in order.
    pub runtime_modules: Vec<&'static str>,
    /// Whether the client makes streaming calls (the `streams` module).
    pub has_streams: bool,
    /// Whether the server calls methods on the client (the `server_calls` module).
    pub has_handlers: bool,
    /// Whether the service has topics (the `topics` module).
    pub has_topics: bool,
    /// Whether the service has shared states (the `state` module).
    pub has_states: bool,
    /// Whether the service has state machines (the `machines` module).
    pub has_machines: bool,
    /// Whether a method may answer as an operation (the `operations` module).
    pub has_operations: bool,
    /// The package's name as a JSON string.
    pub package_name_literal: String,
    /// The package's version as a JSON string.
    pub package_version_literal: String,
    /// What the README lists and the calls its examples use.
    pub readme: ReadmeModel,
}

/// One `import { ... } from "./runtime/<module>.js"` of `client.ts`.
#[derive(Debug, Clone)]
pub struct RuntimeImport {
    /// The module's name, such as `connection`.
    pub module: &'static str,
    /// What it imports, types written `type Name`.
    pub names: Vec<String>,
}

/// The runtime modules a service needs: the core always; `streams` for streaming
/// methods, `server_calls` for methods the server calls on the client, `topics` and
/// `state` (with `subscriptions` and `patch`) for topics and shared states.
pub fn runtime_modules(streams: bool, handlers: bool, topics: bool, states: bool, machines: bool, operations: bool) -> Vec<&'static str> {
    super::runtime::MODULES
        .iter()
        .map(|(name, _)| *name)
        .filter(|m| match *m {
            "streams" => streams,
            "server_calls" => handlers,
            "subscriptions" => topics || states,
            "topics" => topics,
            "patch" | "state" => states,
            "machines" => machines,
            "operations" => operations,
            _ => true,
        })
        .collect()
}

/// The runtime module that exports `name`.
pub fn runtime_module_of(name: &str) -> &'static str {
    match name {
        "Metadata" | "Streamable" | "Encoding" | "MethodKind" => "frames",
        "ErrorCode" | "WarningCode" | "codeName" | "VolleyError" | "ConnectionError" | "VolleyWarning" => "errors",
        "WideInt" | "Bytes" | "parseJson" | "stringifyJson" => "codec",
        "WebSocketConstructor" | "WebSocketLike" | "WebSocketOptions" | "Pem" => "socket",
        "ReconnectOptions" => "reconnect",
        "CallOptions" => "calls",
        "ServerStream" | "ClientStream" | "BidiStream" => "streams",
        "HandlerContext" | "serverCalls" => "server_calls",
        "Subscription" => "subscriptions",
        "TopicsApi" | "topics" => "topics",
        "applyPatch" => "patch",
        "StatesApi" | "states" => "state",
        "MachineSession" | "machines" | "Transition" | "DataEvent" => "machines",
        "OperationHandle" | "operations" | "OperationState" => "operations",
        _ => "connection",
    }
}

fn runtime_imports(values: &BTreeSet<&'static str>, types: &BTreeSet<&'static str>) -> Vec<RuntimeImport> {
    let mut by_module: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    let position = super::runtime::position;
    for v in values {
        by_module.entry(position(runtime_module_of(v))).or_default().push((v.to_lowercase(), v.to_string()));
    }
    for t in types {
        by_module.entry(position(runtime_module_of(t))).or_default().push((t.to_lowercase(), format!("type {t}")));
    }
    by_module
        .into_iter()
        .map(|(i, mut names)| {
            names.sort();
            RuntimeImport { module: super::runtime::MODULES[i].0, names: names.into_iter().map(|(_, n)| n).collect() }
        })
        .collect()
}

/// The README's list of methods and the calls of its examples, taken from the service
/// so the examples name real methods.
#[derive(Debug, Clone, Default)]
pub struct ReadmeModel {
    /// Every method the client can call, in document order.
    pub methods: Vec<ReadmeEntry>,
    /// Every method the server calls on the client.
    pub handlers: Vec<ReadmeEntry>,
    /// A unary method, for the first call.
    pub unary: Option<ExampleCall>,
    /// A server stream.
    pub server_stream: Option<ExampleCall>,
    /// A client stream.
    pub client_stream: Option<ExampleCall>,
    /// A bidirectional stream.
    pub bidi_stream: Option<ExampleCall>,
    /// Any method, for the options examples (timeouts, cancel, metadata).
    pub any: Option<ExampleCall>,
    /// A method with a typed error.
    pub typed_error: Option<ExampleCall>,
    /// Every handler the user implements: its key and a stub of it.
    pub handler_stubs: Vec<(String, String)>,
}

/// One line of the README's method lists.
#[derive(Debug, Clone)]
pub struct ReadmeEntry {
    /// How it is reached: `client.calc.evaluate`, or the handler's key.
    pub call: String,
    /// Its call shape in words: `unary`, `server stream`...
    pub shape: &'static str,
    /// The first line of its docs, or empty.
    pub summary: String,
}

/// A call in a README example: `{{ call }}({{ args }})`, or with options
/// `{{ call }}({{ args_then }}{ ... })`.
#[derive(Debug, Clone)]
pub struct ExampleCall {
    /// The member path, such as `client.calc.evaluate`.
    pub call: String,
    /// The wire name as a string literal.
    pub wire: String,
    /// The arguments before the options: `{ /* AddParams */ }`, `items`...
    pub args: String,
    /// `args` followed by `, ` when not empty.
    pub args_then: String,
}

/// A named type in `types.ts`.
#[derive(Debug, Clone)]
pub struct TypeDecl {
    /// The TypeScript name.
    pub name: String,
    /// The doc comment, as lines (`/**`, ` * ...`, ` */`), or empty.
    pub docs: Vec<String>,
    /// Its body.
    pub body: TypeBody,
}

/// How a named type is declared.
#[derive(Debug, Clone)]
pub enum TypeBody {
    /// `export interface Name { fields }`.
    Interface {
        /// The fields.
        fields: Vec<TsField>,
        /// An index signature's value type, for objects that allow other keys.
        index: Option<String>,
    },
    /// `export type Name = | A | B;`, one alternative per line.
    Union {
        /// The alternatives.
        variants: Vec<TsVariant>,
    },
    /// `export type Name = expr;`.
    Alias {
        /// The type expression.
        expr: String,
    },
}

/// A field of an interface.
#[derive(Debug, Clone)]
pub struct TsField {
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The property key: the wire name, quoted when it is not an identifier.
    pub key: String,
    /// Whether the key may be left out (`?`).
    pub optional: bool,
    /// The type expression.
    pub ty: String,
}

/// One alternative of a union type.
#[derive(Debug, Clone)]
pub struct TsVariant {
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The type expression.
    pub expr: String,
}

/// A class in `client.ts` grouping the methods of one dotted prefix.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// The class name (`Client` for the root).
    pub class_name: String,
    /// The dotted prefix of its methods' wire names, such as `calc.sci.`.
    pub prefix: String,
    /// The methods directly in it.
    pub methods: Vec<TsMethod>,
    /// Nested namespaces: the property and the class.
    pub children: Vec<Child>,
}

/// A nested namespace property.
#[derive(Debug, Clone)]
pub struct Child {
    /// The property name (escaped).
    pub member: String,
    /// The class it holds.
    pub class_name: String,
}

/// A server method as a member of a namespace class.
#[derive(Debug, Clone)]
pub struct TsMethod {
    /// The member's name (escaped).
    pub member: String,
    /// The wire name as a TypeScript string literal.
    pub wire: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The call shape: `unary`, `server_stream`, `client_stream` or `bidi_stream`.
    pub kind: &'static str,
    /// The parameter list before `options`, such as `params: AddParams` or
    /// `params: AddParams, input: Streamable<number>`.
    pub signature: String,
    /// The params argument passed on (`params` or `{}`).
    pub params_arg: String,
    /// The return type.
    pub returns: String,
    /// The result or output item type, for the runtime call's type argument.
    pub value_ty: String,
    /// The input item type (client and bidi streams), else empty.
    pub input_ty: String,
    /// The progress type of an operation (`kind` is `operation`), else empty.
    pub progress_ty: String,
}

/// A method the client serves.
#[derive(Debug, Clone)]
pub struct Handler {
    /// The wire name as a string literal: the member's key in `ClientHandlers`.
    pub wire: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The call shape.
    pub kind: &'static str,
    /// The handler's parameter list, such as `params: UiConfirmParams, ctx: HandlerContext`.
    pub signature: String,
    /// Its return type.
    pub returns: String,
}

/// An entry of a type map keyed by a wire name (`Topics`, `States`, `MethodErrors`).
#[derive(Debug, Clone)]
pub struct KeyedType {
    /// The key as a string literal.
    pub key: String,
    /// The doc comment's lines.
    pub docs: Vec<String>,
    /// The type expression.
    pub ty: String,
}

impl Model {
    /// Works out the TypeScript model of a service.
    pub fn new(service: &Service, settings: &Settings) -> Model {
        let mut names = Names::default();
        for def in &service.types {
            let name = names.type_name(&def.name);
            names.defs.insert(def.name.clone(), name);
        }
        let mut cx = Cx { names, used: BTreeSet::new() };
        let mut types: Vec<TypeDecl> = service.types.iter().map(|d| cx.declare(d)).collect();

        // Methods named `volley.*` are the protocol's own (PROTOCOL.md section 9): the
        // runtime calls them (topics, states), so they get no typed members.
        let methods: Vec<&ir::Method> = service.methods.iter().filter(|m| !is_reserved_method(&m.name)).collect();

        // Parameter objects get named types, so users can name them too.
        let params_types = params_types(&mut cx, &methods, &mut types);

        let types_runtime_imports = std::mem::take(&mut cx.used).into_iter().map(str::to_string).collect();

        let mut built = Methods::new();
        for m in &methods {
            built.add(&mut cx, m, params_types.get(&m.name).cloned());
        }
        let Methods { namespaces, mut readme, handlers, method_errors, mut values, mut runtime_types, .. } = built;

        // The options examples read best on a unary call.
        if readme.unary.is_some() {
            readme.any = readme.unary.clone();
        }

        let (client_topics, topics): (Vec<_>, Vec<_>) = service.topics.iter().partition(|t| t.from_client);
        let [topics, client_topics] = [topics, client_topics].map(|list| {
            list.into_iter()
                .map(|t| KeyedType { key: string_literal(&t.name), docs: doc_lines(&doc_text(&t.description)), ty: cx.expr(&t.payload) })
                .collect::<Vec<_>>()
        });
        let states = service
            .states
            .iter()
            .map(|s| KeyedType { key: string_literal(&s.name), docs: doc_lines(&doc_text(&s.description)), ty: cx.expr(&s.schema) })
            .collect();

        let machines = machines::machines(&mut cx, &service.machines);

        let client_type_imports = client_type_imports(&cx, service, &methods, &params_types);

        let package_name = settings.package_name.clone().unwrap_or_else(|| package_name(&service.name));
        let package_version = settings
            .package_version
            .clone()
            .or_else(|| service.version.clone())
            .unwrap_or_else(|| "0.0.0".into());
        let summary = service
            .description
            .clone()
            .unwrap_or_else(|| format!("Typed client for the {} volley service", service.name));
        runtime_types.extend(std::mem::take(&mut cx.used));
        let has_streams = namespaces.iter().flat_map(|n| &n.methods).any(|f| f.kind != "unary" && f.kind != "operation");
        let has_handlers = !handlers.is_empty();
        let has_topics = !service.topics.is_empty();
        let has_states = !service.states.is_empty();
        let has_machines = !service.machines.is_empty();
        let operations: Vec<(String, String, String)> = methods
            .iter()
            .filter(|m| m.side == ir::Side::Server)
            .filter_map(|m| {
                let progress = m.operation.as_ref()?;
                Some((string_literal(&m.name), cx.expr(m.result.as_ref().unwrap_or(&ir::Type::Null)), cx.expr(progress)))
            })
            .collect();
        let has_operations = !operations.is_empty();
        if has_handlers {
            values.insert("serverCalls");
        } else {
            runtime_types.remove("HandlerContext");
        }
        if has_topics {
            values.extend(["TopicsApi", "topics"]);
        }
        if has_states {
            values.extend(["StatesApi", "states"]);
        }
        if has_machines {
            values.extend(["MachineSession", "machines"]);
            runtime_types.extend(["CallOptions", "Transition"]);
        }
        if has_operations {
            values.extend(["OperationHandle", "operations"]);
        }
        let runtime_modules = runtime_modules(has_streams, has_handlers, has_topics, has_states, has_machines, has_operations);
        let client_imports = runtime_imports(&values, &runtime_types);
        Model {
            package_name_literal: string_literal(&package_name),
            package_version_literal: string_literal(&package_version),
            types_runtime_imports,
            client_imports,
            runtime_modules,
            has_streams,
            has_handlers,
            has_topics,
            has_states,
            has_machines,
            has_operations,
            operations,
            readme,
            package_name,
            package_version,
            service_name: service.name.clone(),
            package_description: string_literal(summary.lines().next().unwrap_or_default()),
            service_docs: doc_lines(&service_docs(service)),
            types,
            namespaces,
            handlers,
            method_errors,
            topics,
            client_topics,
            states,
            machines,
            client_type_imports,
        }
    }
}

/// Declares a named type for each method's parameters (`AddParams`), so users can name
/// them too; returns each method's params type by wire name.
fn params_types(cx: &mut Cx, methods: &[&ir::Method], types: &mut Vec<TypeDecl>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in methods.iter().filter(|m| !m.params.is_empty()) {
        let name = cx.names.type_name(&format!("{}Params", pascal(&m.path)));
        let body = TypeBody::Interface { fields: m.params.iter().map(|f| cx.field(f)).collect(), index: None };
        let docs = doc_lines(&[format!("The parameters of `{}`.", m.name)]);
        types.push(TypeDecl { name: name.clone(), docs, body });
        out.insert(m.name.clone(), name);
    }
    out
}

/// The `types.ts` names client.ts imports: the params types and every named type the
/// methods, topics and states refer to.
fn client_type_imports(cx: &Cx, service: &Service, methods: &[&ir::Method], params_types: &BTreeMap<String, String>) -> Vec<String> {
    let mut refs = BTreeSet::new();
    for m in methods {
        for t in [&m.result, &m.input, &m.output, &m.error, &m.operation].into_iter().flatten() {
            t.refs(&mut refs);
        }
    }
    for t in &service.topics {
        t.payload.refs(&mut refs);
    }
    for s in &service.states {
        s.schema.refs(&mut refs);
    }
    for m in &service.machines {
        m.transmit.refs(&mut refs);
        for s in &m.states {
            s.data.refs(&mut refs);
            for e in &s.events {
                e.data.refs(&mut refs);
                e.result.refs(&mut refs);
            }
        }
    }
    let mut out: Vec<String> = params_types.values().cloned().collect();
    out.extend(refs.iter().map(|r| cx.names.defs[r].clone()));
    out.sort();
    out.dedup();
    out
}

/// The `Client` class's doc comment: the service's description, then what it is.
fn service_docs(service: &Service) -> Vec<String> {
    let mut docs = doc_text(&service.description);
    if !docs.is_empty() {
        docs.push(String::new());
    }
    docs.push(format!(
        "A client of the `{}` service{}.",
        service.name,
        service.version.as_ref().map(|v| format!(" (version {v})")).unwrap_or_default()
    ));
    docs
}
