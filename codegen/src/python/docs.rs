//! Docstrings (Google style) and the short forms the README lists: a method's shape in
//! words, a field's line, `def` headers and example calls.

use crate::ir::{Field, Service, Shape};
use crate::names::doc_text;

use super::model::{Namespace, PyParam};

/// The `Client` class's docstring: the service's description, what it is, how to
/// connect.
pub(super) fn client_docs(service: &Service) -> Vec<String> {
    let mut client_lines = doc_text(&service.description);
    if !client_lines.is_empty() {
        client_lines.push(String::new());
    }
    client_lines.push(format!(
        "A client of the `{}` service{}.",
        service.name,
        service.version.as_ref().map(|v| format!(" (version {v})")).unwrap_or_default()
    ));
    client_lines.push(String::new());
    client_lines.push("Connect with `async with Client.connect(url) as client:` (or".into());
    client_lines.push("`client = await Client.connect(url)` and `await client.close()`).".into());
    client_lines
}

/// A class's docstring: its docs, then an `Attributes:` section.
pub(super) fn class_docs(name: &str, docs: Vec<String>, attr_docs: Vec<(String, String)>) -> Vec<String> {
    let mut lines = docs;
    if !attr_docs.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push("Attributes:".into());
        for (a, d) in attr_docs {
            lines.push(if d.is_empty() { format!("    {a}: See the schema.") } else { format!("    {a}: {d}") });
        }
    }
    if lines.is_empty() {
        lines.push(format!("`{name}`."));
    }
    lines
}

pub(super) fn shape_phrase(kind: Shape) -> &'static str {
    match kind {
        Shape::Unary => "unary: one request, one answer",
        Shape::ServerStream => "server stream: one request, a stream of items back",
        Shape::ClientStream => "client stream: a stream of items, one answer",
        Shape::BidiStream => "bidirectional stream: items both ways",
    }
}

/// A field's doc: its description, constraints and default, on one line.
pub(super) fn field_doc(f: &Field) -> String {
    let mut parts = vec![];
    if let Some(d) = &f.description {
        parts.push(d.lines().map(str::trim).collect::<Vec<_>>().join(" "));
    }
    let phrases = f.constraints.phrases();
    if !phrases.is_empty() {
        parts.push(format!("Constraints: {}.", phrases.join(", ")));
    }
    if let Some(d) = &f.default {
        parts.push(format!("Default: `{d}`."));
    } else if f.optional {
        parts.push("Optional.".into());
    }
    parts.join(" ")
}

/// A method's `def` line, indented for a class body; wrapped one parameter a line when
/// it would be longer than 100 characters.
pub(super) fn def_header(def: &str, name: &str, args: &[String], returns: &str) -> String {
    let line = format!("    {def} {name}(self{}) -> {returns}:", args.iter().map(|a| format!(", {a}")).collect::<String>());
    if line.len() <= 100 {
        return line;
    }
    let mut out = format!("    {def} {name}(\n        self,\n");
    for a in args {
        out.push_str(&format!("        {a},\n"));
    }
    out.push_str(&format!("    ) -> {returns}:"));
    out
}

/// A README example of calling a method.
pub(super) fn example_call(ns: &Namespace, member: &str, params: &[PyParam], kind: Shape, value: &str) -> String {
    let path = if ns.prefix.is_empty() {
        format!("client.{member}")
    } else {
        format!("client.{}{member}", ns.prefix)
    };
    let args: Vec<String> = params.iter().filter(|p| !p.optional).map(|p| format!("{}=...", p.arg)).collect();
    let mut all = vec![];
    if kind.caller_streams() {
        all.push("items".to_string());
    }
    all.extend(args);
    let call = format!("{path}({})", all.join(", "));
    match kind {
        Shape::Unary => format!("result: {value} = await {call}"),
        Shape::ClientStream => format!("result: {value} = await {call}  # items: an (async) iterable"),
        Shape::ServerStream => format!("async with {call} as stream:\n    async for item in stream:  # {value}\n        ..."),
        Shape::BidiStream => {
            format!("async with {call} as stream:  # items: an (async) iterable\n    async for item in stream:  # {value}\n        ...")
        }
    }
}

/// A docstring block, indented by `indent` spaces, without a trailing newline; empty
/// for no text. Backslashes and `"""` in the text cannot end or break it.
pub fn docstring(lines: &[String], indent: usize) -> String {
    let mut lines: Vec<String> =
        lines.iter().map(|l| l.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")).collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    if lines.is_empty() {
        return String::new();
    }
    let pad = " ".repeat(indent);
    if lines.len() == 1 {
        let l = &lines[0];
        let end = if l.ends_with('"') { " " } else { "" };
        return format!("{pad}\"\"\"{l}{end}\"\"\"");
    }
    let mut out = format!("{pad}\"\"\"{}\n", lines[0]);
    for l in &lines[1..] {
        if l.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}{l}\n"));
        }
    }
    out.push_str(&format!("{pad}\"\"\""));
    out
}
