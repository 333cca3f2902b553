//! `volley describe`: a service's schema as a person reads it, the way `grpcurl
//! describe` shows a gRPC service. The whole service is its name, version,
//! description and encodings, then one line per method grouped by namespace, its
//! topics, shared states and state machines; one name (a method, topic, state, machine,
//! named type or namespace) is shown in full, with its docs and the definitions of the
//! named types it uses.
//!
//! Types are TypeScript-like text built from the IR ([`crate::ir`]), the model the SDK
//! generators use, so the text shows what the SDKs will see: `{ a: number; b?: string |
//! null }`, tagged unions, `Tree[]`. The parts:
//!
//! - [`Catalogue`] (here): the document with its types mapped, and what a name finds;
//! - `types.rs`: type expressions, definitions, and the named types a type leads to;
//! - `signature.rs`: one line per method and machine event;
//! - `text.rs`: the text of the service and of each item;
//! - `entry.rs`: an item's schema entry, for `--format json`.
//!
//! `volley docs` ([`crate::docs`]) lays the same signatures and types out as Markdown.

mod entry;
pub mod signature;
mod text;
pub mod types;

use std::fmt;

use clap::ValueEnum;
use volley_schema::{MethodDoc, SchemaDocument};

use crate::ir::{MapErrors, Method, Service};
use crate::load::LoadError;
use crate::names::is_reserved_method;
use crate::suggest;

pub use entry::{entries, entry};
pub use text::{item as item_text, service as service_text};

/// How `volley describe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Signatures, docs and type definitions, for people.
    #[default]
    Text,
    /// The schema document's own entry (the whole document without a name), as JSON.
    Json,
}

/// A loaded document and its types, with what a name finds in it.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The document as the server wrote it.
    pub doc: SchemaDocument,
    /// Its schemas mapped to types.
    pub service: Service,
}

/// Something `volley describe NAME` can show: an index into the catalogue's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Every method below a dotted prefix, such as `calc`.
    Namespace(String),
    /// A method, by its index in `methods`.
    Method(usize),
    /// A topic.
    Topic(usize),
    /// A shared state.
    State(usize),
    /// A state machine.
    Machine(usize),
    /// A named type, by its index in the service's (sorted) `types`.
    Type(usize),
}

/// A group of methods for a one-line-each listing: those directly in a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace's dotted name; empty for the methods at the top level.
    pub name: String,
    /// Its methods, as indices into `methods`, in the document's order.
    pub methods: Vec<usize>,
}

/// A name that is in none of the catalogue's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    /// The name asked for.
    pub name: String,
    /// The service's name.
    pub service: String,
    /// The closest names there are (see [`suggest::closest`]).
    pub suggestions: Vec<String>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a method, topic, state, machine, type or namespace of {}", self.name, self.service)?;
        match self.suggestions.as_slice() {
            [] => write!(f, "; `volley describe` without a name lists them"),
            [one] => write!(f, "; did you mean `{one}`?"),
            many => write!(
                f,
                "; did you mean one of {}?",
                many.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl std::error::Error for NotFound {}

impl Catalogue {
    /// Maps a loaded document's schemas, or lists those that cannot be mapped.
    pub fn new(doc: SchemaDocument) -> Result<Catalogue, MapErrors> {
        let service = Service::from_document(&doc)?;
        Ok(Catalogue { doc, service })
    }

    /// A method with its document entry (for what the IR leaves out, like `sequential`).
    pub fn method(&self, i: usize) -> (&Method, &MethodDoc) {
        (&self.service.methods[i], &self.doc.methods[i])
    }

    /// The service's own methods (not the protocol's `volley.*`) by the namespace they
    /// are directly in: the top level first, then the namespaces by name.
    pub fn namespaces(&self) -> Vec<Namespace> {
        let mut out: Vec<Namespace> = vec![];
        for (i, m) in self.service.methods.iter().enumerate() {
            if is_reserved_method(&m.name) {
                continue;
            }
            let name = m.path[..m.path.len() - 1].join(".");
            match out.iter_mut().find(|n| n.name == name) {
                Some(n) => n.methods.push(i),
                None => out.push(Namespace { name, methods: vec![i] }),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The protocol's own methods the document lists (`volley.introspect`...).
    pub fn reserved_methods(&self) -> Vec<&str> {
        self.service.methods.iter().map(|m| m.name.as_str()).filter(|n| is_reserved_method(n)).collect()
    }

    /// Everything `name` names: a method, topic, state, machine or named type of that
    /// name, and a namespace when methods' names start with `name.`. One name may be
    /// several things (a topic and a state, say); they come in that order.
    pub fn find(&self, name: &str) -> Vec<Item> {
        let s = &self.service;
        let mut out = vec![];
        out.extend(s.methods.iter().position(|m| m.name == name).map(Item::Method));
        out.extend(s.topics.iter().position(|t| t.name == name).map(Item::Topic));
        out.extend(s.states.iter().position(|t| t.name == name).map(Item::State));
        out.extend(s.machines.iter().position(|t| t.name == name).map(Item::Machine));
        out.extend(s.types.iter().position(|t| t.name == name).map(Item::Type));
        let prefix = format!("{name}.");
        if s.methods.iter().any(|m| m.name.starts_with(&prefix)) {
            out.push(Item::Namespace(name.to_string()));
        }
        out
    }

    /// What `name` names, or [`NotFound`] with the closest names there are.
    pub fn lookup(&self, name: &str) -> Result<Vec<Item>, NotFound> {
        let found = self.find(name);
        if !found.is_empty() {
            return Ok(found);
        }
        let names = self.names();
        Err(NotFound {
            name: name.to_string(),
            service: self.service.name.clone(),
            suggestions: suggest::closest(name, names.iter().map(String::as_str)).into_iter().map(str::to_string).collect(),
        })
    }

    /// Every name [`Catalogue::find`] finds something for: methods, topics, states,
    /// machines, named types, then namespaces.
    pub fn names(&self) -> Vec<String> {
        let s = &self.service;
        let mut out: Vec<String> = vec![];
        out.extend(s.methods.iter().map(|m| m.name.clone()));
        out.extend(s.topics.iter().map(|t| t.name.clone()));
        out.extend(s.states.iter().map(|t| t.name.clone()));
        out.extend(s.machines.iter().map(|t| t.name.clone()));
        out.extend(s.types.iter().map(|t| t.name.clone()));
        for m in &s.methods {
            for n in 1..m.path.len() {
                let prefix = m.path[..n].join(".");
                if !out.contains(&prefix) {
                    out.push(prefix);
                }
            }
        }
        out
    }
}

/// A load error in words, adding for a URL whose answer holds no volley schema (`404
/// Not Found`, or not a schema document) that it may not be a volley server at all.
pub fn explain(source: &str, error: LoadError) -> String {
    let is_url = ["http://", "https://", "ws://", "wss://"].iter().any(|p| source.starts_with(p));
    let no_schema = match &error {
        LoadError::Fetch { reason, .. } => reason.contains("`404 "),
        LoadError::NotJson { .. } | LoadError::NotSchema { .. } => true,
        _ => false,
    };
    if is_url && no_schema {
        format!("{error}; is {source} a volley server? (a volley server serves its schema at GET /schema beside its WebSocket)")
    } else {
        error.to_string()
    }
}

/// What `volley describe` prints for a loaded document: the whole service, or what
/// `name` names, in `format`. A name that names nothing is a [`NotFound`] error.
pub fn describe(doc: SchemaDocument, name: Option<&str>, format: Format) -> Result<String, Box<dyn std::error::Error>> {
    let cat = Catalogue::new(doc)?;
    let items = match name {
        Some(name) => Some(cat.lookup(name)?),
        None => None,
    };
    Ok(match (format, items) {
        (Format::Text, None) => service_text(&cat),
        (Format::Text, Some(items)) => {
            items.iter().map(|i| item_text(&cat, i)).collect::<Vec<_>>().join("\n")
        }
        (Format::Json, None) => serde_json::to_string_pretty(&cat.doc)? + "\n",
        (Format::Json, Some(items)) => serde_json::to_string_pretty(&entries(&cat, &items))? + "\n",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes() -> Catalogue {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");
        Catalogue::new(crate::load::load(path).unwrap()).unwrap()
    }

    #[test]
    fn names_find_their_items() {
        let cat = shapes();
        assert!(matches!(cat.find("calc.divide")[..], [Item::Method(_)]));
        assert!(matches!(cat.find("news")[..], [Item::Topic(_)]));
        assert!(matches!(cat.find("board")[..], [Item::State(_)]));
        assert!(matches!(cat.find("door")[..], [Item::Machine(_)]));
        assert!(matches!(cat.find("Tree")[..], [Item::Type(_)]));
        assert_eq!(cat.find("calc"), [Item::Namespace("calc".into())]);
        assert!(cat.find("calc.div").is_empty());
    }

    #[test]
    fn a_misspelt_name_suggests_the_closest() {
        let cat = shapes();
        let e = cat.lookup("calc.devide").unwrap_err();
        assert_eq!(e.suggestions, ["calc.divide"]);
        assert!(e.to_string().ends_with("did you mean `calc.divide`?"), "{e}");
        let e = cat.lookup("zzzzzzzzzz").unwrap_err();
        assert!(e.suggestions.is_empty() && e.to_string().contains("without a name lists them"), "{e}");
    }

    #[test]
    fn namespaces_group_the_services_own_methods() {
        let cat = shapes();
        let names: Vec<String> = cat.namespaces().into_iter().map(|n| n.name).collect();
        assert_eq!(names[0], "", "the top level comes first");
        assert!(names.contains(&"calc".to_string()) && names.contains(&"calc.sci".to_string()), "{names:?}");
        assert!(!names.contains(&"volley".to_string()));
    }
}
