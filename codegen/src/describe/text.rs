//! The text `volley describe` prints: the whole service, or one item in full, with the
//! named types it uses defined below it.

use volley_schema::Scope;

use crate::ir::{Field, Machine, Service, State, Topic, Type};

use super::signature;
use super::types::{definition, expr, field, notes, referenced};
use super::{Catalogue, Item};

/// The whole service: name and version, description, encodings, then the methods by
/// namespace (one line each), topics, shared states, machines, and the names of the
/// protocol's methods and of the named types.
pub fn service(cat: &Catalogue) -> String {
    let s = &cat.service;
    let mut out = vec![match &s.version {
        Some(v) => format!("{} {v}", s.name),
        None => s.name.clone(),
    }];
    out.extend(s.description.iter().flat_map(|d| d.lines().map(str::to_string)));
    if !s.encodings.is_empty() {
        out.push(format!("encodings: {}", s.encodings.join(", ")));
    }
    for ns in cat.namespaces() {
        out.push(String::new());
        out.push(if ns.name.is_empty() { "methods:".to_string() } else { format!("namespace {}:", ns.name) });
        for &i in &ns.methods {
            let (m, doc) = cat.method(i);
            out.push(format!("  {}", signature::method(m, doc)));
        }
    }
    if !s.topics.is_empty() {
        out.push(String::new());
        out.push("topics:".into());
        for t in &s.topics {
            out.push(format!("  {}: {} [{}]", t.name, expr(&t.payload), publisher(t)));
        }
    }
    if !s.states.is_empty() {
        out.push(String::new());
        out.push("shared states:".into());
        for (i, st) in s.states.iter().enumerate() {
            out.push(format!("  {}: {} [scope: {}]", st.name, expr(&st.schema), scope_name(cat.doc.states[i].scope)));
        }
    }
    if !s.machines.is_empty() {
        out.push(String::new());
        out.push("machines:".into());
        for m in &s.machines {
            out.push(format!("  {} [transmit: {}]", m.name, expr(&m.transmit)));
            for (i, st) in m.states.iter().enumerate() {
                let events = if st.events.is_empty() {
                    "no events".to_string()
                } else {
                    format!("events {}", st.events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", "))
                };
                let initial = if i == 0 { " (initial)" } else { "" };
                out.push(format!("    {}{initial}: {events}; goes to {}", st.name, targets(&st.targets)));
            }
        }
    }
    let reserved = cat.reserved_methods();
    if !reserved.is_empty() || !s.types.is_empty() {
        out.push(String::new());
    }
    if !reserved.is_empty() {
        out.push(format!("protocol methods: {}", reserved.join(", ")));
    }
    if !s.types.is_empty() {
        out.push(format!("types: {}", s.types.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")));
    }
    finish(out)
}

/// One item in full.
pub fn item(cat: &Catalogue, item: &Item) -> String {
    let s = &cat.service;
    match item {
        Item::Method(i) => method(cat, *i),
        Item::Topic(i) => topic(s, &s.topics[*i]),
        Item::State(i) => state(s, &s.states[*i], cat.doc.states[*i].scope),
        Item::Machine(i) => machine(s, &s.machines[*i]),
        Item::Type(i) => {
            let def = &s.types[*i];
            let mut out = definition(def, true);
            types_below(&mut out, s, &[&def.ty], Some(&def.name));
            finish(out)
        }
        Item::Namespace(name) => namespace(cat, name),
    }
}

fn method(cat: &Catalogue, i: usize) -> String {
    let (m, doc) = cat.method(i);
    let mut out = vec![signature::method(m, doc)];
    docs(&mut out, &m.description);
    out.push(String::new());
    if let Some(d) = &m.deprecated {
        out.push(if d.is_empty() { "deprecated".to_string() } else { format!("deprecated: {d}") });
    }
    if m.side == crate::ir::Side::Client {
        out.push("called by the server: clients serve it, the server calls it on them".into());
    }
    if doc.sequential {
        out.push("sequential: one connection's calls run one at a time, in the order they arrived".into());
    }
    if let Some(p) = &m.operation {
        out.push(format!("operation: it may answer as a long-running operation, with progress {}", expr(p)));
    }
    if m.params.is_empty() {
        out.push("parameters: none".into());
    } else {
        out.push("parameters:".into());
        fields(&mut out, &m.params);
    }
    if let Some(input) = &m.input {
        out.push(format!("input: stream of {}", expr(input)));
    }
    if let Some(output) = &m.output {
        out.push(format!("output: stream of {}", expr(output)));
    }
    if let Some(result) = &m.result {
        out.push(format!("result: {}", expr(result)));
    }
    if let Some(error) = &m.error {
        out.push(format!("error: {}, the data of its APPLICATION (1000) errors", expr(error)));
    }
    types_below(&mut out, &cat.service, &signature::types(m), None);
    finish(out)
}

fn topic(s: &Service, t: &Topic) -> String {
    let mut out = vec![format!("topic {}: {}", t.name, expr(&t.payload))];
    out.push(if t.from_client {
        "published by clients: the server handles what they send".to_string()
    } else {
        "published by the server: clients subscribe to it".to_string()
    });
    docs(&mut out, &t.description);
    types_below(&mut out, s, &[&t.payload], None);
    finish(out)
}

fn state(s: &Service, st: &State, scope: Scope) -> String {
    let mut out = vec![format!("state {}: {}", st.name, expr(&st.schema))];
    out.push(format!("scope: {} ({})", scope_name(scope), scope_words(scope)));
    docs(&mut out, &st.description);
    types_below(&mut out, s, &[&st.schema], None);
    finish(out)
}

fn machine(s: &Service, m: &Machine) -> String {
    let mut out = vec![format!("machine {}", m.name)];
    out.push(format!("transmit: {} (the data of its data events)", expr(&m.transmit)));
    docs(&mut out, &m.description);
    out.push(String::new());
    out.push("states (a session starts in the first):".into());
    let mut roots: Vec<&Type> = vec![&m.transmit];
    for st in &m.states {
        roots.push(&st.data);
        let entered = match &st.data {
            Type::Null => String::new(),
            t => format!(" (entered with {})", expr(t)),
        };
        out.push(format!("  {}{entered}", st.name));
        indented(&mut out, "    ", &st.description);
        out.push(format!("    goes to: {}", targets(&st.targets)));
        if st.events.is_empty() {
            out.push("    no events".into());
        }
        for e in &st.events {
            roots.push(&e.data);
            roots.push(&e.result);
            out.push(format!("    {}", signature::event(&m.name, e)));
            indented(&mut out, "      ", &e.description);
        }
    }
    types_below(&mut out, s, &roots, None);
    finish(out)
}

fn namespace(cat: &Catalogue, name: &str) -> String {
    let prefix = format!("{name}.");
    let mut out = vec![format!("namespace {name}")];
    for (i, m) in cat.service.methods.iter().enumerate() {
        if !m.name.starts_with(&prefix) {
            continue;
        }
        let (m, doc) = cat.method(i);
        out.push(format!("  {}", signature::method(m, doc)));
        if let Some(first) = m.description.as_deref().and_then(|d| d.lines().next()) {
            out.push(format!("    {}", first.trim()));
        }
    }
    finish(out)
}

/// Parameters or fields, one per line: docs as comments above, notes after.
fn fields(out: &mut Vec<String>, fs: &[Field]) {
    for f in fs {
        for line in f.description.as_deref().unwrap_or_default().lines() {
            out.push(format!("  // {}", line.trim_end()).trim_end().to_string());
        }
        let notes = notes(f);
        if notes.is_empty() {
            out.push(format!("  {}", field(f)));
        } else {
            out.push(format!("  {} // {}", field(f), notes.join(", ")));
        }
    }
}

/// A blank line and the doc text, when there is some.
fn docs(out: &mut Vec<String>, text: &Option<String>) {
    if let Some(text) = text {
        out.push(String::new());
        out.extend(text.lines().map(|l| l.trim_end().to_string()));
    }
}

fn indented(out: &mut Vec<String>, indent: &str, text: &Option<String>) {
    for line in text.as_deref().unwrap_or_default().lines() {
        out.push(format!("{indent}{}", line.trim_end()).trim_end().to_string());
    }
}

/// The definitions of the named types `roots` lead to, under a `types:` heading.
fn types_below(out: &mut Vec<String>, s: &Service, roots: &[&Type], skip: Option<&str>) {
    let defs = referenced(s, roots, skip);
    if defs.is_empty() {
        return;
    }
    out.push(String::new());
    out.push("types:".into());
    for (i, def) in defs.iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        out.extend(definition(def, true).into_iter().map(|l| format!("  {l}")));
    }
}

fn publisher(t: &Topic) -> &'static str {
    if t.from_client {
        "clients publish"
    } else {
        "the server publishes"
    }
}

/// A state's scope as the schema names it.
pub(crate) fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Server => "server",
        Scope::Connection => "connection",
    }
}

/// What a state's scope means.
pub(crate) fn scope_words(scope: Scope) -> &'static str {
    match scope {
        Scope::Server => "one document, the same for every subscriber",
        Scope::Connection => "each connection has its own document",
    }
}

/// A machine state's targets in words.
pub(crate) fn targets(targets: &Option<Vec<String>>) -> String {
    match targets {
        None => "any state".into(),
        Some(t) if t.is_empty() => "no other state".into(),
        Some(t) => t.join(", "),
    }
}

/// The lines as one text, without trailing blank lines, ending in a newline.
fn finish(mut out: Vec<String>) -> String {
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n") + "\n"
}
