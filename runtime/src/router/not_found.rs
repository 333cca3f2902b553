//! The answer to a call for a method this peer does not serve: where along the dotted
//! name the lookup failed and what that namespace does have, so a caller who typed
//! `calc.trig.sin` learns that `calc` exists, has no `trig`, and has `add` and `sci.`.

use std::collections::BTreeSet;

use crate::error::bounded;
use crate::{Error, ErrorCode};

/// At most this many names are listed in `data.available`.
pub(crate) const AVAILABLE_LIMIT: usize = 64;
/// At most this many of them are named in the message.
const MESSAGE_NAMES: usize = 8;

/// `METHOD_NOT_FOUND` for `name` among `served` (the full names of the methods this
/// peer serves), with `data` as PROTOCOL.md section 7 describes:
/// `{"method", "namespace", "missing", "available"}`.
pub(crate) fn method_not_found<'a>(name: &str, served: impl Iterator<Item = &'a str> + Clone) -> Error {
    let segments: Vec<&str> = name.split('.').collect();
    // The longest prefix of the name (in whole segments) that is a namespace: some
    // served method's name starts with it and a dot. The root always is one.
    let is_namespace = |prefix: &str| served.clone().any(|m| m.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')));
    let mut depth = 0;
    while depth < segments.len() && is_namespace(&segments[..=depth].join(".")) {
        depth += 1;
    }
    let namespace = segments[..depth].join(".");
    let missing = segments.get(depth).copied().unwrap_or("");

    // What sits directly under the namespace: methods by name, namespaces with a
    // trailing dot.
    let mut available = BTreeSet::new();
    for m in served {
        let rest = if namespace.is_empty() {
            Some(m)
        } else {
            m.strip_prefix(namespace.as_str()).and_then(|r| r.strip_prefix('.'))
        };
        if let Some(rest) = rest {
            available.insert(match rest.split_once('.') {
                Some((child, _)) => format!("{child}."),
                None => rest.to_owned(),
            });
        }
    }
    let available: Vec<String> = available.into_iter().take(AVAILABLE_LIMIT).collect();

    let shown = bounded(name);
    let place = if namespace.is_empty() { "this peer".to_owned() } else { format!("`{}`", bounded(&namespace)) };
    let mut listed: Vec<&str> = available.iter().take(MESSAGE_NAMES).map(String::as_str).collect();
    if available.len() > MESSAGE_NAMES {
        listed.push("...");
    }
    // The peer's name is quoted once; everything else the message names is this
    // peer's own (a served namespace or method), so the message stays bounded.
    let list = listed.join(", ");
    let message = if name.is_empty() {
        format!("the method name is empty; {place} has {list}")
    } else if missing.is_empty() {
        format!("no method named `{shown}`: it is a namespace, with {list}")
    } else if depth + 1 < segments.len() && available.iter().any(|a| a == missing) {
        // `calc.add.x`: the name goes on past a method.
        format!("no method named `{shown}`: `{}` is a method, not a namespace", segments[..=depth].join("."))
    } else {
        format!("no method named `{shown}`; {place} has {list}")
    };
    Error::new(ErrorCode::METHOD_NOT_FOUND, message)
        .with_data(serde_json::json!({
            "method": shown,
            "namespace": bounded(&namespace),
            "missing": bounded(missing),
            "available": available,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVED: &[&str] = &["add", "calc.add", "calc.sci.sin", "calc.sci.cos", "version", "volley.introspect"];

    fn data(name: &str) -> serde_json::Value {
        let e = method_not_found(name, SERVED.iter().copied());
        assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND);
        e.data.expect("data")
    }

    #[test]
    fn the_lookup_says_where_it_failed_and_what_is_there() {
        let d = data("calc.trig.sin");
        assert_eq!(d["namespace"], "calc");
        assert_eq!(d["missing"], "trig");
        assert_eq!(d["available"], serde_json::json!(["add", "sci."]));
        assert_eq!(d["method"], "calc.trig.sin");

        let d = data("calc.sci.tan");
        assert_eq!((d["namespace"].as_str(), d["missing"].as_str()), (Some("calc.sci"), Some("tan")));
        assert_eq!(d["available"], serde_json::json!(["cos", "sin"]));

        let d = data("nope");
        assert_eq!((d["namespace"].as_str(), d["missing"].as_str()), (Some(""), Some("nope")));
        assert_eq!(d["available"], serde_json::json!(["add", "calc.", "version", "volley."]));
    }

    #[test]
    fn a_method_is_not_a_namespace() {
        let e = method_not_found("calc.add.x", SERVED.iter().copied());
        assert!(e.message.contains("`calc.add` is a method, not a namespace"), "{}", e.message);
        let d = e.data.unwrap();
        assert_eq!((d["namespace"].as_str(), d["missing"].as_str()), (Some("calc"), Some("add")));
    }

    #[test]
    fn a_namespace_is_not_a_method() {
        let d = data("calc.sci");
        assert_eq!((d["namespace"].as_str(), d["missing"].as_str()), (Some("calc.sci"), Some("")));
        let e = method_not_found("calc.sci", SERVED.iter().copied());
        assert_eq!(e.message, "no method named `calc.sci`: it is a namespace, with cos, sin");
    }

    #[test]
    fn names_from_the_peer_are_bounded_and_the_list_is_capped() {
        let long = "x".repeat(1000);
        let d = data(&long);
        assert!(d["method"].as_str().unwrap().len() < 200 && d["missing"].as_str().unwrap().ends_with("..."));
        // The peer's name is quoted once: the message does not grow with it.
        let e = method_not_found(&long, SERVED.iter().copied());
        assert_eq!(e.message.matches(&"x".repeat(128)).count(), 1, "{}", e.message);
        assert!(e.message.len() < 300, "{}", e.message);
        let many: Vec<String> = (0..100).map(|i| format!("m{i:03}")).collect();
        let e = method_not_found("nope", many.iter().map(String::as_str));
        assert_eq!(e.data.unwrap()["available"].as_array().unwrap().len(), AVAILABLE_LIMIT);
        assert!(e.message.ends_with("m007, ..."), "{}", e.message);
    }
}
