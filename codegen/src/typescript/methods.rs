//! The client's side of the model, method by method: the namespace classes a dotted
//! name lands in, each method's member and signature, the handlers the server calls,
//! and the README's example calls.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{self, Shape, Side, Type};
use crate::names::pascal;

use super::keywords::CLIENT_MEMBERS;
use super::docs::{method_docs, shape_words, summary};
use super::model::{Child, ExampleCall, Handler, KeyedType, Namespace, ReadmeEntry, ReadmeModel, TsMethod};
use super::names::{camel, string_literal, unique_member};
use super::types::Cx;

/// What the methods add up to, filled in one method at a time.
pub(super) struct Methods {
    /// The namespace classes; the first is the root (`Client`).
    pub namespaces: Vec<Namespace>,
    /// Where each dotted prefix's class sits in `namespaces`.
    by_path: BTreeMap<Vec<String>, usize>,
    /// How each namespace is reached from a client: `client`, `client.calc`...
    access: Vec<String>,
    /// Member names taken in each namespace class.
    members: Vec<BTreeSet<String>>,
    /// The README's entries and examples.
    pub readme: ReadmeModel,
    /// Methods the server calls on the client.
    pub handlers: Vec<Handler>,
    /// `MethodErrors` entries.
    pub method_errors: Vec<KeyedType>,
    /// Runtime values client.ts imports besides those type expressions use.
    pub values: BTreeSet<&'static str>,
    /// Runtime types client.ts imports besides those type expressions use.
    pub runtime_types: BTreeSet<&'static str>,
}

/// One method's types, as its member and its handler both print them.
struct Types {
    params: Option<String>,
    value: String,
    input: String,
}

impl Methods {
    pub fn new() -> Self {
        let mut by_path = BTreeMap::new();
        by_path.insert(vec![], 0);
        Methods {
            namespaces: vec![Namespace { class_name: "Client".into(), prefix: String::new(), methods: vec![], children: vec![] }],
            by_path,
            access: vec!["client".to_string()],
            members: vec![CLIENT_MEMBERS.iter().map(|s| s.to_string()).collect()],
            readme: ReadmeModel::default(),
            handlers: vec![],
            method_errors: vec![],
            values: ["Connection", "ErrorCode", "VolleyError"].into(),
            runtime_types: ["ConnectOptions", "MethodKind"].into(),
        }
    }

    /// Adds a method: a member of its namespace class, or a handler when the server
    /// calls it. `params` is the name of its params type, if it has parameters.
    pub fn add(&mut self, cx: &mut Cx, m: &ir::Method, params: Option<String>) {
        if let Some(e) = &m.error {
            self.method_errors.push(KeyedType { key: string_literal(&m.name), docs: vec![], ty: cx.expr(e) });
        }
        let value = match m.kind {
            Shape::Unary | Shape::ClientStream => cx.expr(m.result.as_ref().unwrap_or(&Type::Null)),
            _ => cx.expr(m.output.as_ref().unwrap_or(&Type::Any)),
        };
        let input = m.input.as_ref().map(|t| cx.expr(t)).unwrap_or_default();
        let types = Types { params, value, input };
        match m.side {
            Side::Client => self.handler(m, &types),
            Side::Server => self.member(cx, m, types),
        }
    }

    /// A method the server calls: its `ClientHandlers` entry and README stub.
    fn handler(&mut self, m: &ir::Method, t: &Types) {
        let Types { params, value, input } = t;
        let mut args = vec![format!("params: {}", params.clone().unwrap_or_else(|| "Record<string, never>".into()))];
        if m.kind.caller_streams() {
            args.push(format!("input: AsyncIterable<{input}>"));
        }
        args.push("ctx: HandlerContext".into());
        self.runtime_types.insert("HandlerContext");
        let returns = match m.kind {
            Shape::Unary | Shape::ClientStream => format!("{value} | Promise<{value}>"),
            _ => format!("AsyncIterable<{value}> | Iterable<{value}>"),
        };
        self.readme.handlers.push(ReadmeEntry { call: string_literal(&m.name), shape: shape_words(m.kind), summary: summary(m) });
        let inputs = if m.kind.caller_streams() { "params, input, ctx" } else { "params, ctx" };
        let stub = if m.kind.callee_streams() {
            format!("async function* ({inputs}) {{\n      // yield items of type {value}\n    }}")
        } else {
            format!("async ({inputs}) => {{\n      // return a value of type {value}\n    }}")
        };
        self.readme.handler_stubs.push((string_literal(&m.name), stub));
        self.handlers.push(Handler {
            wire: string_literal(&m.name),
            docs: method_docs(m),
            kind: m.kind.as_str(),
            signature: args.join(", "),
            returns,
        });
    }

    /// The index of the namespace class for a method's dotted path, creating the
    /// classes along it.
    fn namespace_of(&mut self, cx: &mut Cx, path: &[String]) -> usize {
        let mut parent = 0;
        for depth in 1..path.len() {
            let prefix = path[..depth].to_vec();
            parent = match self.by_path.get(&prefix) {
                Some(&i) => i,
                None => {
                    let member = unique_member(&mut self.members[parent], &camel(&prefix[depth - 1]));
                    let class_name = cx.names.type_name(&format!("{}Namespace", pascal(&prefix)));
                    let access = format!("{}.{member}", self.access[parent]);
                    self.namespaces[parent].children.push(Child { member, class_name: class_name.clone() });
                    self.namespaces.push(Namespace { class_name, prefix: format!("{}.", prefix.join(".")), methods: vec![], children: vec![] });
                    self.members.push(["constructor".to_string(), "then".to_string()].into());
                    self.access.push(access);
                    self.by_path.insert(prefix, self.namespaces.len() - 1);
                    self.namespaces.len() - 1
                }
            };
        }
        parent
    }

    /// A method the client calls: a member of its namespace class.
    fn member(&mut self, cx: &mut Cx, m: &ir::Method, t: Types) {
        let parent = self.namespace_of(cx, &m.path);
        let member = unique_member(&mut self.members[parent], &camel(m.path.last().map(String::as_str).unwrap_or("")));
        let all_optional = m.params.iter().all(|p| p.optional);
        let mut args = vec![];
        let params_arg = match &t.params {
            Some(p) if all_optional => {
                args.push(format!("params: {p} = {{}}"));
                "params".to_string()
            }
            Some(p) => {
                args.push(format!("params: {p}"));
                "params".to_string()
            }
            None => "{}".to_string(),
        };
        if m.kind.caller_streams() {
            args.push(format!("input: Streamable<{}>", t.input));
            self.runtime_types.insert("Streamable");
        }
        args.push("options: CallOptions = {}".into());
        self.runtime_types.insert("CallOptions");
        let value = &t.value;
        let progress = m.operation.as_ref().map(|g| cx.expr(g));
        let returns = match m.kind {
            Shape::Unary if progress.is_some() => format!("OperationHandle<{value}, {}>", progress.as_deref().unwrap_or("unknown")),
            Shape::Unary => format!("Promise<{value}>"),
            Shape::ClientStream => format!("ClientStream<{value}>"),
            Shape::ServerStream => format!("ServerStream<{value}>"),
            Shape::BidiStream => format!("BidiStream<{value}>"),
        };
        if progress.is_some() {
            self.values.insert("OperationHandle");
        }
        if m.kind != Shape::Unary {
            self.values.insert(match m.kind {
                Shape::ServerStream => "ServerStream",
                Shape::BidiStream => "BidiStream",
                _ => "ClientStream",
            });
        }
        let call = format!("{}.{member}", self.access[parent]);
        self.example(m, &call, t.params.as_deref());
        self.readme.methods.push(ReadmeEntry { call, shape: shape_words(m.kind), summary: summary(m) });
        self.namespaces[parent].methods.push(TsMethod {
            member,
            wire: string_literal(&m.name),
            docs: method_docs(m),
            kind: if progress.is_some() { "operation" } else { m.kind.as_str() },
            signature: args.join(", "),
            params_arg,
            returns,
            value_ty: t.value,
            input_ty: t.input,
            progress_ty: progress.unwrap_or_default(),
        });
    }

    /// Offers the method to the README as the example of its call shape, of a typed
    /// error, and of any call, where none was taken yet.
    fn example(&mut self, m: &ir::Method, call: &str, params: Option<&str>) {
        let mut example_args = vec![];
        if let Some(p) = params {
            example_args.push(format!("{{ /* {p} */ }}"));
        }
        if m.kind.caller_streams() {
            example_args.push("items".to_string());
        }
        let args = example_args.join(", ");
        let example = ExampleCall {
            call: call.to_string(),
            wire: string_literal(&m.name),
            args_then: if args.is_empty() { String::new() } else { format!("{args}, ") },
            args,
        };
        let readme = &mut self.readme;
        let slot = match m.kind {
            Shape::Unary => &mut readme.unary,
            Shape::ServerStream => &mut readme.server_stream,
            Shape::ClientStream => &mut readme.client_stream,
            Shape::BidiStream => &mut readme.bidi_stream,
        };
        if slot.is_none() {
            *slot = Some(example.clone());
        }
        if readme.typed_error.is_none() && m.error.is_some() {
            readme.typed_error = Some(example.clone());
        }
        if readme.any.is_none() {
            readme.any = Some(example);
        }
    }
}
