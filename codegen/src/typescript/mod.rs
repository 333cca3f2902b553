//! The TypeScript generator: an npm package (ES modules with types) for Node 20+ and
//! browsers.
//!
//! [`model::Model`] is what the askama templates in `templates/typescript/` lay out; it
//! is worked out from the IR by `names.rs` (identifiers), `types.rs` (type expressions
//! and declarations), `methods.rs` (namespaces, members, handlers, README examples) and
//! `docs.rs` (TSDoc).
//!
//! The protocol runtime is plain TypeScript in `templates/typescript/runtime/`, one
//! module per feature, embedded here with `include_str!` and copied verbatim into
//! `src/runtime/` of each SDK: only the modules the service needs (see
//! [`model::runtime_modules`]). Why the SDK vendors its runtime rather than depending
//! on an npm package: `templates/typescript/runtime/README.md`.

mod docs;
pub mod keywords;
mod machines;
mod methods;
pub mod model;
mod names;
pub mod runtime;
mod types;

use askama::Template;

use crate::ir::Service;
use crate::output::{GenerateError, OutputFile, Settings};
use model::{Model, TypeBody};

#[derive(Template)]
#[template(path = "typescript/types.ts", escape = "none")]
struct TypesTs<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "typescript/client.ts", escape = "none")]
struct ClientTs<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "typescript/index.ts", escape = "none")]
struct IndexTs<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "typescript/package.json", escape = "none")]
struct PackageJson<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "typescript/tsconfig.json", escape = "none")]
struct TsconfigJson;

#[derive(Template)]
#[template(path = "typescript/README.md", escape = "none")]
struct Readme<'a> {
    m: &'a Model,
}

/// Renders the TypeScript SDK of `service`: `package.json`, `tsconfig.json`,
/// `README.md`, `src/{types,client,index}.ts` and the runtime modules the service
/// needs under `src/runtime/`.
pub fn generate(service: &Service, settings: &Settings) -> Result<Vec<OutputFile>, GenerateError> {
    let m = Model::new(service, settings);
    let file = |path: &str, contents: String| OutputFile::text(path, contents);
    let mut files = vec![
        file("package.json", PackageJson { m: &m }.render()?),
        file("tsconfig.json", TsconfigJson.render()?),
        file("README.md", Readme { m: &m }.render()?),
    ];
    for name in &m.runtime_modules {
        files.push(file(&format!("src/runtime/{name}.ts"), runtime::source(name).to_string()));
    }
    files.push(file("src/types.ts", TypesTs { m: &m }.render()?));
    files.push(file("src/client.ts", ClientTs { m: &m }.render()?));
    files.push(file("src/index.ts", IndexTs { m: &m }.render()?));
    Ok(files)
}

