//! An item's entry in the schema document, as the server wrote it, for `volley
//! describe URL NAME --format json`: a script gets the JSON Schemas themselves.

use serde_json::{Map, Value};

use super::{Catalogue, Item};

/// The document's entry for one item: a method's, topic's, state's or machine's
/// object, a named type's JSON Schema (its `$defs` entry), and for a namespace the list
/// of its methods' objects.
pub fn entry(cat: &Catalogue, item: &Item) -> Value {
    let doc = &cat.doc;
    let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    match item {
        Item::Method(i) => json(serde_json::to_value(&doc.methods[*i])),
        Item::Topic(i) => json(serde_json::to_value(&doc.topics[*i])),
        Item::State(i) => json(serde_json::to_value(&doc.states[*i])),
        Item::Machine(i) => json(serde_json::to_value(&doc.machines[*i])),
        Item::Type(i) => doc.defs.get(&cat.service.types[*i].name).cloned().unwrap_or(Value::Null),
        Item::Namespace(name) => {
            let prefix = format!("{name}.");
            Value::Array(
                doc.methods
                    .iter()
                    .filter(|m| m.name.starts_with(&prefix))
                    .map(|m| json(serde_json::to_value(m)))
                    .collect(),
            )
        }
    }
}

/// The entries of what a name found: the one entry when it found one thing, else an
/// object with one key per kind (`method`, `topic`, `state`, `machine`, `type`,
/// `namespace`).
pub fn entries(cat: &Catalogue, items: &[Item]) -> Value {
    if let [one] = items {
        return entry(cat, one);
    }
    let mut out = Map::new();
    for item in items {
        let kind = match item {
            Item::Method(_) => "method",
            Item::Topic(_) => "topic",
            Item::State(_) => "state",
            Item::Machine(_) => "machine",
            Item::Type(_) => "type",
            Item::Namespace(_) => "namespace",
        };
        out.insert(kind.to_string(), entry(cat, item));
    }
    Value::Object(out)
}
