//! TypeScript names: type names away from keywords, globals and the runtime's own;
//! camelCase members unique in their class; property keys and string literals.

use std::collections::{BTreeMap, BTreeSet};

use super::keywords::{is_identifier, GLOBALS, RESERVED, RUNTIME};

/// Type names in use, and what each `$defs` name became.
#[derive(Default)]
pub(super) struct Names {
    taken: BTreeSet<String>,
    /// What each `$defs` name became.
    pub(super) defs: BTreeMap<String, String>,
}

impl Names {
    /// A fresh type name: an identifier, not reserved, not taken.
    pub(super) fn type_name(&mut self, wanted: &str) -> String {
        let mut name: String = wanted.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '$' { c } else { '_' }).collect();
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert(0, '_');
        }
        while RESERVED.contains(&name.as_str())
            || GLOBALS.contains(&name.as_str())
            || RUNTIME.contains(&name.as_str())
            || self.taken.contains(&name)
        {
            name.push('_');
        }
        self.taken.insert(name.clone());
        name
    }
}


/// A property key: the name itself when it is an identifier, else a string literal.
/// Reserved words are fine as property names in TypeScript.
pub fn property_key(name: &str) -> String {
    if is_identifier(name) { name.to_string() } else { string_literal(name) }
}

/// A TypeScript string literal (JSON's escaping is valid TypeScript).
pub fn string_literal(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}


/// `echo_metadata` → `echoMetadata`, `sum-from-client` → `sumFromClient`: TypeScript's
/// convention for members. A name without separators is kept as it is.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for (i, word) in name.split(['_', '-', ' ']).filter(|w| !w.is_empty()).enumerate() {
        if i == 0 {
            out.push_str(word);
        } else {
            let mut cs = word.chars();
            if let Some(c) = cs.next() {
                out.push(c.to_ascii_uppercase());
                out.push_str(cs.as_str());
            }
        }
    }
    if out.is_empty() { name.to_string() } else { out }
}

/// A class member name, escaped away from the class's other members and made an
/// identifier.
pub(super) fn unique_member(taken: &mut BTreeSet<String>, wanted: &str) -> String {
    let mut name: String = wanted.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '$' { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    while taken.contains(&name) {
        name.push('_');
    }
    taken.insert(name.clone());
    name
}
