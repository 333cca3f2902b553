//! `volley docs`: a static Markdown API reference of a service, from the same
//! signatures, docs and types as `volley describe` ([`crate::describe`]).
//!
//! It is one file, `index.md`, README-like: the service, a table of contents, a section
//! per namespace (a summary table, then every method with its signature, docs,
//! parameters table, result, errors and deprecation), then topics, shared states, state
//! machines, named types and error codes. One file rather than one per namespace,
//! because named types are shared across namespaces: in one page every type a method
//! names is a link that works in any Markdown viewer (GitHub, an editor's preview, a
//! static site), the page searches as a whole, and it ships as one file.
//!
//! [`model::Model`] works out every heading, anchor, row and link; the askama template
//! `templates/docs/index.md` lays them out, as the SDKs' templates do; `markdown.rs`
//! escapes what lands in code spans, table cells and code blocks.

mod markdown;
pub mod model;

use askama::Template;

use crate::describe::Catalogue;
use crate::output::{GenerateError, OutputFile};
use model::Model;

#[derive(Template)]
#[template(path = "docs/index.md", escape = "none")]
struct IndexMd<'a> {
    m: &'a Model,
}

/// Renders the reference of a catalogue: `index.md`.
pub fn generate(cat: &Catalogue) -> Result<Vec<OutputFile>, GenerateError> {
    let m = Model::new(cat);
    Ok(vec![OutputFile::text("index.md", IndexMd { m: &m }.render()?)])
}
