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

mod per_connection;

pub use per_connection::{ConnectionState, Flush};
pub(crate) use per_connection::{resend, subscribed, OwnDoc};

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

/// The operations that turn `old` into `new` (the json-patch crate's diff: objects key by
/// key, arrays index by index, unchanged parts left out).
pub(crate) fn diff(old: &Value, new: &Value) -> Vec<Value> {
    json_patch::diff(old, new)
        .0
        .iter()
        .map(|op| serde_json::to_value(op).expect("a patch operation serializes"))
        .collect()
}

/// Applies a JSON Patch (RFC 6902) to `doc`: every operation (`add`, `remove`,
/// `replace`, `move`, `copy`, `test`). All or nothing: on error `doc` is left as it was.
pub fn apply_patch(doc: &mut Value, patch: &Value) -> Result<(), Error> {
    let bad = |m: String| Error::new(crate::ErrorCode::BAD_FRAME, format!("bad JSON Patch: {m}"));
    let patch: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| bad(e.to_string()))?;
    json_patch::patch(doc, &patch).map_err(|e| bad(e.to_string()))
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
    fn a_failed_patch_changes_nothing() {
        let mut doc = json!({"a": 1});
        let patch = json!([{"op": "replace", "path": "/a", "value": 2}, {"op": "remove", "path": "/missing"}]);
        assert!(apply_patch(&mut doc, &patch).is_err());
        assert_eq!(doc, json!({"a": 1}));
    }

    #[test]
    fn keys_are_escaped() {
        let ops = diff(&json!({}), &json!({"a/b~c": 1}));
        assert_eq!(ops, vec![json!({"op": "add", "path": "/a~1b~0c", "value": 1})]);
    }
}
