//! `volley diff`: every change between two schema documents, each classified as
//! breaking or compatible for the clients of the older one, as `buf breaking` does for
//! protobuf.
//!
//! A change is **breaking** when an existing client can fail because of it: at run time
//! (it sends something the new server refuses, or receives something it does not
//! expect), or when its code, written against the old SDK, no longer type-checks against
//! an SDK generated from the new schema. Everything else is **compatible**, and listed
//! so that a reviewer sees it.
//!
//! The service's parts are matched by name (the `elements` module); their types are compared as
//! JSON Schemas in the direction the data flows (the `types` module): what clients send may only
//! widen, what they receive may only narrow. Each kind of change is a [`Rule`] with a
//! stable id for CI (`--format json`).

mod elements;
mod report;
mod rule;
mod types;

pub use report::{render_json, render_text};
pub use rule::{rules_help, Level, Rule};

use volley_schema::SchemaDocument;

/// One difference between the old and the new document.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What kind of change it is; its [`Rule::level`] says whether it breaks clients.
    pub rule: Rule,
    /// The part of the service it is in: a method's, topic's, state's or machine's name,
    /// or `service` for the document itself.
    pub subject: String,
    /// Where in the subject: `params.b`, `result.items[].name`, `payload(Moved).to`;
    /// empty for the subject itself.
    pub path: String,
    /// What changed, in a sentence.
    pub message: String,
}

impl Change {
    /// Whether the change breaks existing clients.
    pub fn level(&self) -> Level {
        self.rule.level()
    }
}

/// Every change from `old` to `new`, in the order of the old document's parts, then the
/// new document's additions.
pub fn diff(old: &SchemaDocument, new: &SchemaDocument) -> Vec<Change> {
    elements::diff_documents(old, new)
}

/// How many of `changes` break clients.
pub fn breaking_count(changes: &[Change]) -> usize {
    changes.iter().filter(|c| c.level() == Level::Breaking).count()
}
