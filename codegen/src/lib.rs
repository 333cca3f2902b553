//! `volley-cli`: the `volley` command. It generates typed client SDKs from a volley
//! server's introspection document (PROTOCOL.md section 9), calls and inspects live
//! servers (`volley call`, `volley schema`, [`listen`], and [`console`], the interactive
//! `volley console`), checks two schemas for breaking changes ([`diff`]), and shows a
//! service to people: `volley
//! describe` prints its signatures and types ([`describe`]), `volley docs` writes its
//! Markdown reference ([`docs`]).
//!
//! The pipeline runs one way: [`load`] reads and checks the document, [`ir`] turns its
//! JSON Schemas into language-neutral types, and each language's module (such as
//! [`typescript`]) builds its own model of names and types from the IR and renders it
//! through askama templates (the repository's `templates/` folder, linked into this
//! crate as `templates/` so it packages with them). [`describe`] and [`docs`] start
//! from the same IR: describe writes its types and signatures as TypeScript-like text,
//! and docs lays those out as Markdown through the template `templates/docs/index.md`.
//!
//! Adding a language means a module with a `generate(&Service, &Settings) ->
//! Result<Vec<OutputFile>, GenerateError>` function and a [`Language`] variant.

pub mod call;
pub mod cli;
pub mod connect;
pub mod console;
pub mod describe;
pub mod diff;
pub mod docs;
pub mod ir;
pub mod listen;
pub mod load;
pub mod names;
pub mod output;
pub mod python;
pub mod suggest;
pub mod typescript;

pub use output::{GenerateError, OutputFile};

/// A language the generator can write an SDK in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A TypeScript package (ES modules with types) for Node 20+ and browsers.
    TypeScript,
    /// A Python package.
    Python,
}
