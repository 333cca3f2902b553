//! The client's side of the Python model, method by method: the namespace classes a
//! dotted name lands in, each method's signature and docstring, the handlers the server
//! calls, and the README's example calls.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{self, Shape, Side, Type};
use crate::names::{doc_text, pascal};

use super::keywords::{CLIENT_MEMBERS, METHOD_LOCALS, ROOT_MEMBERS};
use super::docs::{def_header, docstring, example_call, field_doc, shape_phrase};
use super::model::{HandlerMethod, MethodError, Namespace, PyMethod, PyParam};
use super::names::{py_str, unique};
use super::types::{apply, nullable, Cx, PyTy};

/// What the methods add up to, filled in one method at a time.
pub(super) struct Methods {
    /// The namespace classes; the first is the root (`Client`).
    pub namespaces: Vec<Namespace>,
    /// Where each dotted prefix's class sits in `namespaces`.
    by_path: BTreeMap<Vec<String>, usize>,
    /// Member names taken in each namespace class.
    members: Vec<BTreeSet<String>>,
    /// Methods the server calls on the client.
    pub handlers: Vec<HandlerMethod>,
    /// Member names taken in the handlers' protocol class.
    handler_members: BTreeSet<String>,
    /// Exception classes of methods with a typed error.
    pub method_errors: Vec<MethodError>,
    /// The README's example call of each call shape, the first method of it.
    pub examples: BTreeMap<&'static str, String>,
}

/// One method's types and arguments, as its member and its handler both print them.
struct Prepared {
    /// `pascal` of the dotted name, which hoisted types are named after.
    ctx: String,
    value: PyTy,
    input: Option<PyTy>,
    params: Vec<PyParam>,
    /// `name: annotation` (`= None` when optional), in order.
    sig_params: Vec<String>,
    /// Each argument's docstring line.
    arg_docs: Vec<(String, String)>,
    /// The typed error's exception class and data annotation.
    error: Option<(String, String)>,
}

impl Methods {
    pub fn new() -> Self {
        let mut by_path = BTreeMap::new();
        by_path.insert(vec![], 0);
        Methods {
            namespaces: vec![Namespace { class_name: "Client".into(), prefix: String::new(), methods: vec![], children: vec![] }],
            by_path,
            members: vec![CLIENT_MEMBERS.iter().chain(ROOT_MEMBERS).map(|s| s.to_string()).collect()],
            handlers: vec![],
            handler_members: BTreeSet::new(),
            method_errors: vec![],
            examples: BTreeMap::new(),
        }
    }

    /// Adds a method: a member of its namespace class, or a handler when the server
    /// calls it.
    pub fn add(&mut self, cx: &mut Cx, m: &ir::Method) {
        let p = self.prepare(cx, m);
        match m.side {
            Side::Client => self.handler(cx, m, p),
            Side::Server => self.member(cx, m, p),
        }
    }

    fn prepare(&mut self, cx: &mut Cx, m: &ir::Method) -> Prepared {
        let ctx = pascal(&m.path);
        let value = match m.kind {
            Shape::Unary | Shape::ClientStream => m.result.clone().unwrap_or(Type::Null),
            _ => m.output.clone().unwrap_or(Type::Any),
        };
        let value = cx.py(&value, &format!("{ctx}Result"));
        let input = m.input.as_ref().map(|t| cx.py(t, &format!("{ctx}Item")));
        let mut arg_names: BTreeSet<String> = METHOD_LOCALS.iter().map(|s| s.to_string()).collect();
        arg_names.extend(cx.taken.iter().cloned());
        let (mut params, mut sig_params, mut arg_docs) = (vec![], vec![], vec![]);
        for p in &m.params {
            let arg = unique(&mut arg_names, &p.name);
            let ty = cx.py(&p.ty, &format!("{ctx}{}", pascal(std::slice::from_ref(&p.name))));
            let optional = p.optional;
            let ann = if optional { nullable(&ty.ann) } else { ty.ann.clone() };
            sig_params.push(if optional { format!("{arg}: {ann} = None") } else { format!("{arg}: {ann}") });
            let doc = field_doc(p);
            arg_docs.push((arg.clone(), if doc.is_empty() { format!("`{ann}`.") } else { doc }));
            let encode = if cx.is_identity(&p.ty, &mut BTreeSet::new()) { arg.clone() } else { format!("to_wire({arg})") };
            params.push(PyParam { arg, wire: py_str(&p.name), optional, encode });
        }
        let error = m.error.as_ref().map(|e| {
            let ty = cx.py(e, &format!("{ctx}ErrorData"));
            let name = cx.type_name(&format!("{ctx}Error"));
            self.method_errors.push(MethodError {
                name: name.clone(),
                method: m.name.clone(),
                annotation: ty.ann.clone(),
                decode: ty.dec.clone().unwrap_or_else(|| "identity".into()),
            });
            (name, ty.ann)
        });
        Prepared { ctx, value, input, params, sig_params, arg_docs, error }
    }

    /// A method the server calls: a member of the handlers' protocol class.
    fn handler(&mut self, cx: &mut Cx, m: &ir::Method, p: Prepared) {
        let member = unique(&mut self.handler_members, &m.path.join("_"));
        let mut args = vec![];
        if let Some(i) = &p.input {
            args.push(format!("items: AsyncIterator[{}]", i.ann));
        }
        if !p.sig_params.is_empty() {
            args.push("*".into());
            args.extend(p.sig_params.iter().cloned());
        }
        let streams_out = m.kind.callee_streams();
        let returns = if streams_out { format!("AsyncIterator[{}]", p.value.ann) } else { p.value.ann.clone() };
        let mut call_args = vec![];
        if let Some(i) = &p.input {
            call_args.push(format!("decode_items(items, {})", i.dec.clone().unwrap_or_else(|| "identity".into())));
        }
        for (param, field) in p.params.iter().zip(&m.params) {
            let dec = cx.py(&field.ty, &format!("{}{}", p.ctx, pascal(std::slice::from_ref(&field.name)))).dec;
            let read = if param.optional {
                apply(&dec.map(|d| format!("optional({d})")), &format!("p.get({})", param.wire))
            } else {
                apply(&dec, &format!("p[{}]", param.wire))
            };
            call_args.push(format!("{}={read}", param.arg));
        }
        let def = if streams_out { "def" } else { "async def" };
        self.handlers.push(HandlerMethod {
            wire: py_str(&m.name),
            member: member.clone(),
            docs: docstring(&handler_docs(m, &p), 8),
            def,
            header: def_header(def, &member, &args, &returns),
            kind: m.kind.as_str(),
            invoke: format!("h.{member}({})", call_args.join(", ")),
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
                    let member = unique(&mut self.members[parent], &prefix[depth - 1]);
                    let class_name = cx.type_name(&format!("{}Namespace", pascal(&prefix)));
                    self.namespaces[parent].children.push((member, class_name.clone()));
                    self.namespaces.push(Namespace {
                        class_name,
                        prefix: format!("{}.", prefix.join(".")),
                        methods: vec![],
                        children: vec![],
                    });
                    self.members.push(CLIENT_MEMBERS.iter().map(|s| s.to_string()).collect());
                    self.by_path.insert(prefix, self.namespaces.len() - 1);
                    self.namespaces.len() - 1
                }
            };
        }
        parent
    }

    /// A method the client calls: a member of its namespace class.
    fn member(&mut self, cx: &mut Cx, m: &ir::Method, p: Prepared) {
        let parent = self.namespace_of(cx, &m.path);
        let member = unique(&mut self.members[parent], m.path.last().map(String::as_str).unwrap_or(""));
        let mut args = vec![];
        if let Some(i) = &p.input {
            args.push(format!("items: Input[{}]", i.ann));
        }
        args.push("*".into());
        args.extend(p.sig_params.iter().cloned());
        args.push("options: CallOptions | None = None".into());
        let streams_out = m.kind.callee_streams();
        let progress = m.operation.as_ref().map(|g| cx.py(g, &format!("{}Progress", p.ctx)));
        let returns = match &progress {
            Some(g) => format!("OperationHandle[{}, {}]", p.value.ann, g.ann),
            None if streams_out => format!("Stream[{}]", p.value.ann),
            None => format!("UnaryCall[{}]", p.value.ann),
        };
        let docs = docstring(&member_docs(m, &p), 8);
        let example = example_call(&self.namespaces[parent], &member, &p.params, m.kind, &p.value.ann);
        self.examples.entry(m.kind.as_str()).or_insert(example);
        let has_input = p.input.is_some();
        self.namespaces[parent].methods.push(PyMethod {
            member: member.clone(),
            wire: py_str(&m.name),
            docs,
            header: def_header("def", &member, &args, &returns),
            params: p.params,
            runtime: if progress.is_some() {
                "operation"
            } else if streams_out {
                "stream"
            } else if has_input {
                "client_stream"
            } else {
                "unary"
            },
            decode: p.value.dec.unwrap_or_else(|| "identity".into()),
            items: if has_input { "items" } else { "None" },
            error: p.error.map(|(n, _)| n).unwrap_or_else(|| "None".into()),
            progress: progress.and_then(|g| g.dec).unwrap_or_else(|| "identity".into()),
        });
    }
}

/// The docstring of a handler the server calls.
fn handler_docs(m: &ir::Method, p: &Prepared) -> Vec<String> {
    let streams_out = m.kind.callee_streams();
    let mut lines = doc_text(&m.description);
    lines.push(String::new());
    lines.push(format!("The server calls this as `{}` ({}).", m.name, shape_phrase(m.kind)));
    if !p.arg_docs.is_empty() || p.input.is_some() {
        lines.push(String::new());
        lines.push("Args:".into());
        if p.input.is_some() {
            lines.push("    items: The items the server streams; iterate them to the end.".into());
        }
        for (a, d) in &p.arg_docs {
            lines.push(format!("    {a}: {d}"));
        }
    }
    lines.push(String::new());
    lines.push(if streams_out { "Yields:".into() } else { "Returns:".into() });
    lines.push(format!("    {}", if streams_out { "The items sent back, as the server grants credit." } else { "The answer sent back." }));
    lines
}

/// The docstring of a method the client calls.
fn member_docs(m: &ir::Method, p: &Prepared) -> Vec<String> {
    let mut lines = doc_text(&m.description);
    if let Some(d) = &m.deprecated {
        lines.push(String::new());
        lines.push(if d.is_empty() { "Deprecated.".into() } else { format!("Deprecated: {d}") });
    }
    lines.push(String::new());
    lines.push(format!("Calls `{}` ({}).", m.name, shape_phrase(m.kind)));
    lines.push(String::new());
    lines.push("Args:".into());
    if p.input.is_some() {
        lines.push("    items: The items to send: any iterable or async iterable. They are sent".into());
        lines.push("        only as the server grants credit.".into());
    }
    for (a, d) in &p.arg_docs {
        lines.push(format!("    {a}: {d}"));
    }
    lines.push("    options: Timeout, client metadata and stream window of this call.".into());
    lines.push(String::new());
    lines.push("Returns:".into());
    if m.kind.callee_streams() {
        lines.push(format!("    A `Stream` of `{}`: read it with `async for` (inside `async with` to", p.value.ann));
        lines.push("    cancel it when left early); `await stream.metadata()` and `stream.trailers`".into());
        lines.push("    give the metadata.".into());
    } else {
        lines.push(format!("    A `UnaryCall`: `await` it for the `{}` result, or", p.value.ann));
        lines.push("    `await call.with_metadata()` for a `Response` with metadata and trailers.".into());
    }
    lines.push(String::new());
    lines.push("Raises:".into());
    if let Some((name, ann)) = &p.error {
        lines.push(format!("    {name}: The method's own error (code 1000); `data` is a `{ann}`."));
    }
    lines.push("    VolleyError: Any other failure, such as `DEADLINE_EXCEEDED` or `INVALID_PARAMS`;".into());
    lines.push("        `VolleyConnectionError` when the connection drops.".into());
    lines
}
