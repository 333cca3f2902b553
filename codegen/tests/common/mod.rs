//! Rendering a fixture schema into an SDK, shared by the snapshot tests of each language.
#![allow(dead_code)]

use volley_cli::ir::Service;
use volley_cli::output::Settings;
use volley_cli::{cli, load, Language, OutputFile};

/// The SDK of `tests/fixtures/<fixture>` in `language`, with default settings.
pub fn render(language: Language, fixture: &str) -> Vec<OutputFile> {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let doc = load::load(&path).expect("fixture loads");
    let service = Service::from_document(&doc).expect("fixture maps");
    cli::generate(language, &service, &Settings::new()).expect("renders")
}

/// The SDK of a document given inline, in `language`, with default settings.
pub fn render_json(language: Language, json: &str) -> Vec<OutputFile> {
    let doc = load::parse("inline", json).expect("document parses");
    let service = Service::from_document(&doc).expect("document maps");
    cli::generate(language, &service, &Settings::new()).expect("renders")
}

/// The contents of the rendered file whose path ends with `name`.
pub fn file<'a>(files: &'a [OutputFile], name: &str) -> &'a str {
    &files.iter().find(|f| f.path.ends_with(name)).unwrap_or_else(|| panic!("no {name}")).contents
}
