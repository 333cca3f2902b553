//! The Python generator: an installable package (pyproject.toml, asyncio, typed) that
//! depends only on `websockets` and `msgpack`.
//!
//! [`model::Model`] is what the askama templates in `templates/python/` lay out; it is
//! worked out from the IR by `names.rs` (identifiers), `types.rs` (annotations, decoders
//! and declarations), `methods.rs` (namespaces, members, handlers, README examples) and
//! `docs.rs` (docstrings).
//!
//! Types are dataclasses rather than `TypedDict`s: attribute names can be escaped
//! (`from` becomes `from_`, keeping `"from"` on the wire), each variant of a serde enum
//! is its own class that `isinstance` and `match` narrow, and `to_wire`/`from_wire`
//! convert what JSON and MessagePack cannot carry as is (bytes, tuples, flattening).
//!
//! The protocol itself is the runtime: plain Python modules in
//! `templates/python/_runtime/`, copied verbatim into `<package>/_runtime/` (see
//! `RUNTIME`). Each SDK gets the core and only the optional modules its service uses.
//! The SDK vendors them rather than depending on a runtime package on PyPI: it stays
//! installable on its own and offline, and the runtime it carries is the one the
//! generator that read the server's schema knows, so SDK and protocol never drift
//! apart; the cost, a copy per SDK when one application uses several, is a few
//! hundred lines each (`templates/python/_runtime/README.md`).

mod docs;
pub mod keywords;
mod machines;
mod methods;
pub mod model;
mod names;
mod types;

use askama::Template;

use crate::ir::Service;
use crate::output::{GenerateError, OutputFile, Settings};
use model::{Decl, FieldKind, Model};

/// When an SDK needs a runtime module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Every SDK: the connection, unary calls, errors, codecs, credit, reconnecting.
    Core,
    /// A method the client calls streams (server, client or bidirectional streams).
    Streams,
    /// The server calls methods on the client.
    Serves,
    /// The schema declares topics or shared states.
    Subscriptions,
    /// The schema declares topics.
    Topics,
    /// The schema declares shared states.
    States,
    /// The schema declares state machines.
    Machines,
    /// A method may answer as an operation.
    Operations,
}

impl Need {
    fn met(self, m: &Model) -> bool {
        match self {
            Need::Core => true,
            Need::Streams => m.streams,
            Need::Serves => m.serves(),
            Need::Subscriptions => m.has_topics() || m.has_states(),
            Need::Topics => m.has_topics(),
            Need::States => m.has_states(),
            Need::Machines => m.has_machines(),
            Need::Operations => m.has_operations(),
        }
    }
}

macro_rules! runtime {
    ($($name:literal: $need:ident),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/python/_runtime/", $name)), Need::$need)),*]
    };
}

/// The runtime modules, in the order their imports run (each imports only ones
/// before it), with their text and when an SDK gets them. Copied verbatim: a fix in
/// `templates/python/_runtime/` reaches every SDK when it is generated again.
const RUNTIME: &[(&str, &str, Need)] = runtime![
    "__init__.py": Core,
    "errors.py": Core,
    "values.py": Core,
    "readers.py": Core,
    "frames.py": Core,
    "codec.py": Core,
    "credit.py": Core,
    "reconnect.py": Core,
    "transport.py": Core,
    "calls.py": Core,
    "connection.py": Core,
    "streams.py": Streams,
    "server_calls.py": Serves,
    "subscriptions.py": Subscriptions,
    "topics.py": Topics,
    "patch.py": States,
    "state.py": States,
    "machines.py": Machines,
    "operations.py": Operations,
];

#[derive(Template)]
#[template(path = "python/types.py", escape = "none")]
struct TypesPy<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "python/client.py", escape = "none")]
struct ClientPy<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "python/__init__.py", escape = "none")]
struct InitPy<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "python/pyproject.toml", escape = "none")]
struct PyprojectToml<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "python/README.md", escape = "none")]
struct Readme<'a> {
    m: &'a Model,
}

/// Renders the Python SDK of `service`: `pyproject.toml`, `README.md` and the package
/// `<import name>/{__init__,types,client}.py` with its `py.typed` marker and the
/// `_runtime/` modules the service needs.
pub fn generate(service: &Service, settings: &Settings) -> Result<Vec<OutputFile>, GenerateError> {
    let m = Model::new(service, settings);
    let file = |path: String, contents: String| OutputFile::text(path, contents);
    let pkg = &m.import_name;
    let mut files = vec![
        file("pyproject.toml".into(), PyprojectToml { m: &m }.render()?),
        file("README.md".into(), Readme { m: &m }.render()?),
        file(format!("{pkg}/__init__.py"), InitPy { m: &m }.render()?),
    ];
    for (name, source, need) in RUNTIME {
        if need.met(&m) {
            files.push(OutputFile { path: format!("{pkg}/_runtime/{name}").into(), contents: (*source).to_string() });
        }
    }
    files.extend([
        file(format!("{pkg}/types.py"), TypesPy { m: &m }.render()?),
        file(format!("{pkg}/client.py"), ClientPy { m: &m }.render()?),
        OutputFile { path: format!("{pkg}/py.typed").into(), contents: String::new() },
    ]);
    Ok(files)
}

