//! The TypeScript generator: an npm package (ES modules with types) for Node 20+ and
//! browsers.
//!
//! [`model::Model`] works out every name and type; the askama templates in
//! `templates/typescript/` lay the files out.

pub mod keywords;
pub mod model;

use askama::Template;

use crate::ir::Service;
use crate::output::{GenerateError, OutputFile, Settings};
use model::{Model, TypeBody};

#[derive(Template)]
#[template(path = "typescript/runtime.ts", escape = "none")]
struct RuntimeTs;

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
/// `README.md` and `src/{runtime,types,client,index}.ts`.
pub fn generate(service: &Service, settings: &Settings) -> Result<Vec<OutputFile>, GenerateError> {
    let m = Model::new(service, settings);
    let file = |path: &str, contents: String| OutputFile { path: path.into(), contents: ensure_newline(contents) };
    Ok(vec![
        file("package.json", PackageJson { m: &m }.render()?),
        file("tsconfig.json", TsconfigJson.render()?),
        file("README.md", Readme { m: &m }.render()?),
        file("src/runtime.ts", RuntimeTs.render()?),
        file("src/types.ts", TypesTs { m: &m }.render()?),
        file("src/client.ts", ClientTs { m: &m }.render()?),
        file("src/index.ts", IndexTs { m: &m }.render()?),
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
