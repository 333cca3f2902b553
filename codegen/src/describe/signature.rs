//! One line per method and per machine event, saying how it is called:
//!
//! ```text
//! unary divide(a: number, b: number) -> number throws DivError
//! server_stream countdown(from: integer, interval_ms: integer) -> stream of integer
//! client_stream sum(stream of number) -> number
//! bidi_stream chat(stream of Message) -> stream of Message
//! unary client.confirm(question: string) -> boolean [called by the server]
//! door.lock(data: string) -> null
//! ```
//!
//! The call shape comes first, as the schema names it (`kind`); then the parameters,
//! with the items the caller streams last; then what comes back, the typed error, and
//! in brackets what else a caller must know: who calls it, whether one connection's
//! calls run in order, whether it may answer as an operation, whether it is deprecated.

use volley_schema::MethodDoc;

use crate::ir::{Field, MachineEvent, Method, Side, Type};

use super::types::{expr, field};

/// A method's signature line.
pub fn method(m: &Method, doc: &MethodDoc) -> String {
    let mut line = format!("{} {}", m.kind.as_str(), call(m));
    let flags = flags(m, doc);
    if !flags.is_empty() {
        line.push_str(&format!(" [{}]", flags.join(", ")));
    }
    line
}

/// `name(params) -> result throws Error`, without the shape or the flags.
pub fn call(m: &Method) -> String {
    let mut args: Vec<String> = params(&m.params);
    if let Some(input) = &m.input {
        args.push(format!("stream of {}", expr(input)));
    }
    let returns = match (&m.result, &m.output) {
        (_, Some(output)) => format!("stream of {}", expr(output)),
        (Some(result), None) => expr(result),
        (None, None) => "null".into(),
    };
    let mut line = format!("{}({}) -> {returns}", m.name, args.join(", "));
    if let Some(error) = &m.error {
        line.push_str(&format!(" throws {}", expr(error)));
    }
    line
}

/// What the signature's brackets hold: `called by the server`, `sequential`,
/// `operation, progress: T`, `deprecated`.
pub fn flags(m: &Method, doc: &MethodDoc) -> Vec<String> {
    let mut flags = vec![];
    if m.side == Side::Client {
        flags.push("called by the server".to_string());
    }
    if doc.sequential {
        flags.push("sequential".into());
    }
    if let Some(progress) = &m.operation {
        flags.push(format!("operation, progress: {}", expr(progress)));
    }
    if m.deprecated.is_some() {
        flags.push("deprecated".into());
    }
    flags
}

/// Every type a method's signature shows, in the order it shows them: parameters,
/// streamed items, result, error, operation progress.
pub fn types(m: &Method) -> Vec<&Type> {
    let mut roots: Vec<&Type> = m.params.iter().map(|f| &f.ty).collect();
    roots.extend(m.input.iter().chain(&m.output).chain(&m.result).chain(&m.error).chain(&m.operation));
    roots
}

/// Parameters as `name: type`, `name?: type` for those that may be left out.
pub fn params(fields: &[Field]) -> Vec<String> {
    fields.iter().map(field).collect()
}

/// A machine event's call: `door.lock(data: string) -> boolean`; an event whose data is
/// `null` takes none: `door.open() -> boolean`.
pub fn event(machine: &str, e: &MachineEvent) -> String {
    let data = match &e.data {
        Type::Null => String::new(),
        t => format!("data: {}", expr(t)),
    };
    format!("{machine}.{}({data}) -> {}", e.name, expr(&e.result))
}
