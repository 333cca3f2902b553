//! The Python generator: an installable package (pyproject.toml, asyncio, typed) that
//! depends only on `websockets` and `msgpack`.
//!
//! [`model::Model`] works out every name, annotation and decoder; the askama templates
//! in `templates/python/` lay the files out.
//!
//! Types are dataclasses rather than `TypedDict`s: attribute names can be escaped
//! (`from` becomes `from_`, keeping `"from"` on the wire), each variant of a serde enum
//! is its own class that `isinstance` and `match` narrow, and `to_wire`/`from_wire`
//! convert what JSON and MessagePack cannot carry as is (bytes, tuples, flattening).

pub mod keywords;
pub mod model;

use askama::Template;

use crate::ir::Service;
use crate::output::{GenerateError, OutputFile, Settings};
use model::{Decl, FieldKind, Model};

#[derive(Template)]
#[template(path = "python/_runtime.py", escape = "none")]
struct RuntimePy;

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
/// `<import name>/{__init__,_runtime,types,client}.py` with its `py.typed` marker.
pub fn generate(service: &Service, settings: &Settings) -> Result<Vec<OutputFile>, GenerateError> {
    let m = Model::new(service, settings);
    let file = |path: String, contents: String| OutputFile { path: path.into(), contents: ensure_newline(contents) };
    let pkg = &m.import_name;
    Ok(vec![
        file("pyproject.toml".into(), PyprojectToml { m: &m }.render()?),
        file("README.md".into(), Readme { m: &m }.render()?),
        file(format!("{pkg}/__init__.py"), InitPy { m: &m }.render()?),
        file(format!("{pkg}/_runtime.py"), RuntimePy.render()?),
        file(format!("{pkg}/types.py"), TypesPy { m: &m }.render()?),
        file(format!("{pkg}/client.py"), ClientPy { m: &m }.render()?),
        OutputFile { path: format!("{pkg}/py.typed").into(), contents: String::new() },
    ])
}

fn ensure_newline(mut s: String) -> String {
    while s.ends_with("\n\n") {
        s.pop();
    }
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
