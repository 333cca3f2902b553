//! What the Markdown template lays out, worked out from a [`Catalogue`]: every
//! heading, anchor, signature, table row and link, already escaped. The signatures and
//! type texts are `volley describe`'s ([`crate::describe`]).

use crate::describe::{signature, types, Catalogue};
use crate::ir::{Field, Service, Side, Type, TypeDef};

use super::markdown::{anchor, cell, code, code_link, fence};

/// The whole reference.
#[derive(Debug, Clone)]
pub struct Model {
    /// The page's title: the service's name and version.
    pub title: String,
    /// The service's description (Markdown), or empty.
    pub description: String,
    /// `Encodings: ...`, or empty.
    pub encodings: String,
    /// The table of contents, as Markdown list lines.
    pub contents: Vec<String>,
    /// One section per namespace, the top level first.
    pub namespaces: Vec<NamespaceSection>,
    /// The protocol's own methods, as inline code, comma-separated; or empty.
    pub reserved: String,
    /// Topics, as table rows.
    pub topics: Vec<Vec<String>>,
    /// Shared states, as table rows.
    pub states: Vec<Vec<String>>,
    /// One section per state machine.
    pub machines: Vec<MachineSection>,
    /// One section per named type, by name.
    pub types: Vec<TypeSection>,
    /// The error codes, as table rows.
    pub errors: Vec<Vec<String>>,
}

/// The methods directly in one namespace.
#[derive(Debug, Clone)]
pub struct NamespaceSection {
    /// The heading: `Namespace `calc``, or `Top level`.
    pub title: String,
    /// Its anchor.
    pub anchor: String,
    /// A row per method: a link to it, and its summary.
    pub index: Vec<Vec<String>>,
    /// Each method in full.
    pub methods: Vec<MethodSection>,
}

/// One method in full.
#[derive(Debug, Clone)]
pub struct MethodSection {
    /// Its wire name.
    pub name: String,
    /// Its anchor.
    pub anchor: String,
    /// Its signature, as a fenced code block.
    pub signature: String,
    /// What it is deprecated for (Markdown), when it is.
    pub deprecated: Option<String>,
    /// Its doc comment (Markdown), or empty.
    pub description: String,
    /// Sentences on who calls it, whether calls are ordered, whether it may answer as an
    /// operation.
    pub notes: Vec<String>,
    /// A row per parameter: name, type, required, description.
    pub params: Vec<Vec<String>>,
    /// `**Input:** ...` and the like: what is streamed, returned, thrown.
    pub flows: Vec<String>,
    /// Links to the named types its signature names, comma-separated; or empty.
    pub uses: String,
}

/// One state machine in full.
#[derive(Debug, Clone)]
pub struct MachineSection {
    /// Its name.
    pub name: String,
    /// Its anchor.
    pub anchor: String,
    /// Its doc text (Markdown), or empty.
    pub description: String,
    /// `**Transmit:** ...`.
    pub transmit: String,
    /// A row per state: name, entered with, goes to, description.
    pub states: Vec<Vec<String>>,
    /// A row per event of each state: state, event's signature, description.
    pub events: Vec<Vec<String>>,
    /// Links to the named types it names, comma-separated; or empty.
    pub uses: String,
}

/// One named type in full.
#[derive(Debug, Clone)]
pub struct TypeSection {
    /// Its name.
    pub name: String,
    /// Its anchor.
    pub anchor: String,
    /// Its doc text (Markdown), or empty.
    pub description: String,
    /// Its definition, as a fenced code block.
    pub definition: String,
    /// The header of its table (`field`, or `variant`), when it has one.
    pub table_header: &'static str,
    /// A row per field (name, type, required, description) or per variant (value,
    /// description).
    pub rows: Vec<Vec<String>>,
    /// Links to the named types it names, comma-separated; or empty.
    pub uses: String,
}

impl Model {
    /// The reference of a catalogue.
    pub fn new(cat: &Catalogue) -> Model {
        let s = &cat.service;
        let title = match &s.version {
            Some(v) => format!("{} {v}", s.name),
            None => s.name.clone(),
        };
        let encodings = if s.encodings.is_empty() {
            String::new()
        } else {
            format!("Encodings: {}.", s.encodings.iter().map(|e| code(e)).collect::<Vec<_>>().join(", "))
        };
        let namespaces: Vec<NamespaceSection> = cat.namespaces().iter().map(|ns| namespace(cat, &ns.name, &ns.methods)).collect();
        let topics = s
            .topics
            .iter()
            .map(|t| {
                let publisher = if t.from_client { "clients (the server handles it)" } else { "the server (clients subscribe)" };
                vec![
                    format!("<a id=\"{}\"></a>{}", anchor("topic", &t.name), code(&t.name)),
                    type_cell(&t.payload),
                    publisher.to_string(),
                    cell(t.description.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        let states = s
            .states
            .iter()
            .zip(&cat.doc.states)
            .map(|(st, doc)| {
                let scope = match doc.scope {
                    volley_schema::Scope::Server => "server: one document for everyone",
                    volley_schema::Scope::Connection => "connection: each connection its own",
                };
                vec![
                    format!("<a id=\"{}\"></a>{}", anchor("state", &st.name), code(&st.name)),
                    type_cell(&st.schema),
                    scope.to_string(),
                    cell(st.description.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        let machines: Vec<MachineSection> = s.machines.iter().map(|m| machine(s, m)).collect();
        let types: Vec<TypeSection> = s.types.iter().map(|d| type_section(s, d)).collect();
        let errors = s
            .errors
            .iter()
            .map(|e| vec![e.code.to_string(), code(&e.name), cell(e.description.as_deref().unwrap_or_default())])
            .collect();

        let mut contents = vec![];
        if !namespaces.is_empty() {
            contents.push("- [Methods](#methods)".to_string());
            for ns in &namespaces {
                contents.push(format!("  - [{}](#{})", ns.title, ns.anchor));
            }
        }
        let section = |contents: &mut Vec<String>, present: bool, title: &str, id: &str| {
            if present {
                contents.push(format!("- [{title}](#{id})"));
            }
        };
        section(&mut contents, !s.topics.is_empty(), "Topics", "topics");
        section(&mut contents, !s.states.is_empty(), "Shared states", "shared-states");
        section(&mut contents, !machines.is_empty(), "State machines", "state-machines");
        for m in &machines {
            contents.push(format!("  - [{}](#{})", code(&m.name), m.anchor));
        }
        section(&mut contents, !types.is_empty(), "Types", "types");
        section(&mut contents, !s.errors.is_empty(), "Error codes", "error-codes");

        Model {
            title,
            description: s.description.clone().unwrap_or_default(),
            encodings,
            contents,
            namespaces,
            reserved: cat.reserved_methods().iter().map(|m| code(m)).collect::<Vec<_>>().join(", "),
            topics,
            states,
            machines,
            types,
            errors,
        }
    }
}

fn namespace(cat: &Catalogue, name: &str, methods: &[usize]) -> NamespaceSection {
    let (title, id) = if name.is_empty() {
        ("Top level".to_string(), anchor("namespace", ""))
    } else {
        (format!("Namespace {}", code(name)), anchor("namespace", name))
    };
    let methods: Vec<MethodSection> = methods.iter().map(|&i| method(cat, i)).collect();
    let index = methods
        .iter()
        .zip(methods.iter().map(|m| cat.service.methods.iter().find(|x| x.name == m.name)))
        .map(|(section, m)| {
            let summary = m.and_then(|m| m.description.as_deref()).and_then(|d| d.split("\n\n").next()).unwrap_or_default();
            let mut link = code_link(&section.name, &section.anchor);
            if section.deprecated.is_some() {
                link.push_str(" (deprecated)");
            }
            vec![link, cell(summary)]
        })
        .collect();
    NamespaceSection { title, anchor: id, index, methods }
}

fn method(cat: &Catalogue, i: usize) -> MethodSection {
    let (m, doc) = cat.method(i);
    let mut notes = vec![];
    if m.side == Side::Client {
        notes.push("**Called by the server:** clients serve this method, and the server calls it on them.".to_string());
    }
    if doc.sequential {
        notes.push("**Sequential:** one connection's calls to it run one at a time, in the order they arrived.".to_string());
    }
    if let Some(p) = &m.operation {
        notes.push(format!(
            "**Operation:** it may answer as a long-running operation: its id at once, progress updates of type {}, then the result.",
            type_cell(p)
        ));
    }
    let mut flows = vec![];
    if let Some(t) = &m.input {
        flows.push(format!("**Input:** a stream of {}, sent by the caller.", type_cell(t)));
    }
    if let Some(t) = &m.output {
        flows.push(format!("**Output:** a stream of {}.", type_cell(t)));
    }
    if let Some(t) = &m.result {
        flows.push(format!("**Result:** {}.", type_cell(t)));
    }
    if let Some(t) = &m.error {
        flows.push(format!("**Error:** {}, the `data` of its `APPLICATION` (1000) errors.", type_cell(t)));
    }
    MethodSection {
        name: m.name.clone(),
        anchor: anchor("method", &m.name),
        signature: fence("text", &[signature::method(m, doc)]),
        deprecated: m.deprecated.as_ref().map(|d| if d.is_empty() { "do not use it in new code.".to_string() } else { d.clone() }),
        description: m.description.clone().unwrap_or_default(),
        notes,
        params: field_rows(&m.params),
        flows,
        uses: uses(&cat.service, &signature::types(m), None),
    }
}

fn machine(s: &Service, m: &crate::ir::Machine) -> MachineSection {
    let mut roots: Vec<&Type> = vec![&m.transmit];
    let mut states = vec![];
    let mut events = vec![];
    for (i, st) in m.states.iter().enumerate() {
        roots.push(&st.data);
        let mut name = code(&st.name);
        if i == 0 {
            name.push_str(" (initial)");
        }
        let entered = match &st.data {
            Type::Null => "—".to_string(),
            t => type_cell(t),
        };
        let targets = match &st.targets {
            None => "any state".to_string(),
            Some(t) if t.is_empty() => "no other state".to_string(),
            Some(t) => t.iter().map(|t| code(t)).collect::<Vec<_>>().join(", "),
        };
        states.push(vec![name, entered, targets, cell(st.description.as_deref().unwrap_or_default())]);
        for e in &st.events {
            roots.push(&e.data);
            roots.push(&e.result);
            events.push(vec![code(&st.name), cell(&code(&signature::event(&m.name, e))), cell(e.description.as_deref().unwrap_or_default())]);
        }
    }
    MachineSection {
        name: m.name.clone(),
        anchor: anchor("machine", &m.name),
        description: m.description.clone().unwrap_or_default(),
        transmit: format!("**Transmit:** {}, the data of its data events.", type_cell(&m.transmit)),
        states,
        events,
        uses: uses(s, &roots, None),
    }
}

fn type_section(s: &Service, def: &TypeDef) -> TypeSection {
    let (table_header, rows) = match &def.ty {
        Type::Object(o) if !o.fields.is_empty() => ("field", field_rows(&o.fields)),
        Type::Tagged(t) if t.variants.iter().any(|v| v.description.is_some()) => (
            "variant",
            t.variants
                .iter()
                .map(|v| vec![cell(&code(&types::variant(&t.tagging, v))), cell(v.description.as_deref().unwrap_or_default())])
                .collect(),
        ),
        Type::Enum(values) if values.iter().any(|v| v.description.is_some()) => (
            "variant",
            values
                .iter()
                .map(|v| vec![code(&serde_json::Value::String(v.value.clone()).to_string()), cell(v.description.as_deref().unwrap_or_default())])
                .collect(),
        ),
        _ => ("", vec![]),
    };
    TypeSection {
        name: def.name.clone(),
        anchor: anchor("type", &def.name),
        description: def.description.clone().unwrap_or_default(),
        definition: fence("ts", &types::definition(def, false)),
        table_header,
        rows,
        uses: uses(s, &[&def.ty], Some(&def.name)),
    }
}

/// Rows of a parameters or fields table: name, type, required, description (with the
/// field's notes: width, constraints, default).
fn field_rows(fields: &[Field]) -> Vec<Vec<String>> {
    fields
        .iter()
        .map(|f| {
            let mut description = f.description.clone().unwrap_or_default();
            let notes = types::notes(f).join(", ");
            if description.is_empty() {
                description = notes;
            } else if !notes.is_empty() {
                description.push_str(&format!(" ({notes})"));
            }
            vec![code(&f.name), type_cell(&f.ty), if f.optional { "no" } else { "yes" }.to_string(), cell(&description)]
        })
        .collect()
}

/// A type for a table cell or a sentence: a named type as a link to its section,
/// anything else as inline code (whose named types the `Types:` line links).
fn type_cell(t: &Type) -> String {
    match t {
        Type::Ref(name) => code_link(name, &anchor("type", name)),
        t => cell(&code(&types::expr(t))),
    }
}

/// Links to the named types `roots` name directly, each once, in the order named.
fn uses(s: &Service, roots: &[&Type], skip: Option<&str>) -> String {
    let mut names: Vec<String> = vec![];
    for root in roots {
        for name in types::refs_in_order(root) {
            if Some(name.as_str()) != skip && !names.contains(&name) && s.types.iter().any(|d| d.name == name) {
                names.push(name);
            }
        }
    }
    names.iter().map(|n| code_link(n, &anchor("type", n))).collect::<Vec<_>>().join(", ")
}
