//! Shared state (PROTOCOL.md section 11): named JSON documents a server mirrors to
//! subscribed clients as JSON Patches (RFC 6902).
//!
//! The server keeps the current document of each state; [`Publisher::set_state`]
//! diffs the new value against it and sends only the patch. A client that falls behind
//! never makes the server queue patches: once its notification queue is full, patches
//! for it are dropped and the state is marked stale, and when the queue drains the
//! client gets one full replacement instead.
//!
//! [`Publisher::set_state`]: crate::Publisher::set_state

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::Error;

/// The current document of every shared state.
#[derive(Default)]
pub(crate) struct StateStore {
    pub docs: Mutex<HashMap<String, Value>>,
}

/// A patch replacing the whole document.
pub(crate) fn replace_all(value: &Value) -> Value {
    json!([{ "op": "replace", "path": "", "value": value }])
}

/// The operations that turn `old` into `new`: objects are compared key by key, arrays
/// that only grew or shrank at the end get `add`/`remove` of the tail, anything else
/// that changed is replaced.
pub(crate) fn diff(old: &Value, new: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    diff_into(old, new, &mut String::new(), &mut ops);
    ops
}

fn diff_into(old: &Value, new: &Value, path: &mut String, ops: &mut Vec<Value>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let len = push(path, k);
                match b.get(k) {
                    Some(vb) => diff_into(va, vb, path, ops),
                    None => ops.push(json!({ "op": "remove", "path": path })),
                }
                path.truncate(len);
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    let len = push(path, k);
                    ops.push(json!({ "op": "add", "path": path, "value": vb }));
                    path.truncate(len);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let common = a.len().min(b.len());
            for i in 0..common {
                let len = push(path, &i.to_string());
                diff_into(&a[i], &b[i], path, ops);
                path.truncate(len);
            }
            // Remove from the end so each index is valid when applied in order.
            for i in (common..a.len()).rev() {
                let len = push(path, &i.to_string());
                ops.push(json!({ "op": "remove", "path": path }));
                path.truncate(len);
            }
            for (i, v) in b.iter().enumerate().skip(common) {
                let len = push(path, &i.to_string());
                ops.push(json!({ "op": "add", "path": path, "value": v }));
                path.truncate(len);
            }
        }
        _ => ops.push(json!({ "op": "replace", "path": path, "value": new })),
    }
}

/// Appends `/token` (escaped per RFC 6901) and returns the length before it.
fn push(path: &mut String, token: &str) -> usize {
    let len = path.len();
    path.push('/');
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
    len
}

/// Applies a JSON Patch (RFC 6902) to `doc`: the `add`, `remove` and `replace`
/// operations a volley server sends, plus `move`, `copy` and `test`. On error `doc`
/// may be partly patched; resubscribe to get a fresh copy.
pub fn apply_patch(doc: &mut Value, patch: &Value) -> Result<(), Error> {
    let bad = |m: String| Error::new(crate::ErrorCode::BAD_FRAME, format!("bad JSON Patch: {m}"));
    let ops = patch.as_array().ok_or_else(|| bad("not an array".into()))?;
    for op in ops {
        let path = op["path"].as_str().ok_or_else(|| bad(format!("no path in {op}")))?;
        let value = || op.get("value").cloned().ok_or_else(|| bad(format!("no value in {op}")));
        match op["op"].as_str() {
            Some("add") => insert(doc, path, value()?, true).map_err(bad)?,
            Some("replace") => insert(doc, path, value()?, false).map_err(bad)?,
            Some("remove") => {
                take(doc, path).map_err(bad)?;
            }
            Some("move") | Some("copy") => {
                let from = op["from"].as_str().ok_or_else(|| bad(format!("no from in {op}")))?;
                let v = if op["op"] == "move" {
                    take(doc, from).map_err(bad)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| bad(format!("nothing at {from}")))?
                };
                insert(doc, path, v, true).map_err(bad)?;
            }
            Some("test") => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(bad(format!("test failed at {path}")));
                }
            }
            _ => return Err(bad(format!("unknown op in {op}"))),
        }
    }
    Ok(())
}

fn split(path: &str) -> Result<(&str, String), String> {
    let i = path.rfind('/').ok_or_else(|| format!("path {path:?} does not start with /"))?;
    Ok((&path[..i], path[i + 1..].replace("~1", "/").replace("~0", "~")))
}

fn insert(doc: &mut Value, path: &str, value: Value, add: bool) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            if !add && !m.contains_key(&key) {
                return Err(format!("nothing to replace at {path}"));
            }
            m.insert(key, value);
        }
        Some(Value::Array(a)) => {
            let i = if key == "-" { a.len() } else { key.parse::<usize>().map_err(|_| format!("bad index in {path}"))? };
            match (add, i < a.len(), i == a.len()) {
                (true, _, true) | (true, true, _) => a.insert(i, value),
                (false, true, _) => a[i] = value,
                _ => return Err(format!("index out of range at {path}")),
            }
        }
        _ => return Err(format!("no container at {parent:?}")),
    }
    Ok(())
}

fn take(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = split(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(&key).ok_or_else(|| format!("nothing to remove at {path}")),
        Some(Value::Array(a)) => {
            let i: usize = key.parse().map_err(|_| format!("bad index in {path}"))?;
            (i < a.len()).then(|| a.remove(i)).ok_or_else(|| format!("index out of range at {path}"))
        }
        _ => Err(format!("no container at {parent:?}")),
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), (-5i64..5).prop_map(Value::from), "[a-c/~]{0,2}".prop_map(Value::from)];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c/~]{0,2}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_diff_applied_to_the_old_document_gives_the_new(old in arb_json(), new in arb_json()) {
            let mut doc = old.clone();
            apply_patch(&mut doc, &Value::Array(diff(&old, &new))).unwrap();
            prop_assert_eq!(doc, new);
        }
    }

    #[test]
    fn unchanged_parts_are_not_sent() {
        let old = json!({"players": [{"name": "a", "score": 1}, {"name": "b", "score": 2}], "round": 3});
        let new = json!({"players": [{"name": "a", "score": 1}, {"name": "b", "score": 5}], "round": 3});
        assert_eq!(diff(&old, &new), vec![json!({"op": "replace", "path": "/players/1/score", "value": 5})]);
    }

    #[test]
    fn keys_are_escaped() {
        let ops = diff(&json!({}), &json!({"a/b~c": 1}));
        assert_eq!(ops, vec![json!({"op": "add", "path": "/a~1b~0c", "value": 1})]);
    }
}
