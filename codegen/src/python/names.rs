//! Python names: identifiers escaped away from keywords and taken names (PEP 8's
//! trailing `_`), snake_case, import names and string literals.

use std::collections::BTreeSet;

use super::keywords::is_reserved;

/// A Python string literal in double quotes.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An ASCII identifier made of `wanted`: other characters become `_`, a leading digit
/// gets a `_` before it.
pub(super) fn identifier(wanted: &str) -> String {
    let mut name: String = wanted.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A member, field or parameter name: an identifier, escaped away from keywords and
/// the names already taken by appending `_` (PEP 8's convention).
pub(super) fn unique(taken: &mut BTreeSet<String>, wanted: &str) -> String {
    let mut name = identifier(wanted);
    while is_reserved(&name) || taken.contains(&name) {
        name.push('_');
    }
    taken.insert(name.clone());
    name
}

/// `DivError` → `div_error`.
pub(super) fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out
}

/// The import name of a distribution: `calculator-client` → `calculator_client`.
pub(super) fn import_name(package: &str) -> String {
    let mut name: String =
        package.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if is_reserved(&name) {
        name.push('_');
    }
    name
}
