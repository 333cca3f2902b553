//! Matching the parts of two documents by name: the encodings, methods, topics, shared
//! states and state machines; their types go to [`super::types`].

use serde_json::Value;
use volley_schema::{MachineDoc, MethodDoc, SchemaDocument, Side};

use super::types::{Flow, TypeDiff};
use super::{Change, Rule};

pub(super) fn diff_documents(old: &SchemaDocument, new: &SchemaDocument) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut push = |rule: Rule, subject: &str, message: String| {
        changes.push(Change { rule, subject: subject.to_owned(), path: String::new(), message });
    };

    for e in old.encodings.iter().filter(|e| !new.encodings.contains(e)) {
        push(Rule::EncodingRemoved, "service", format!("encoding `{e}` is no longer served: clients that use it cannot connect"));
    }
    for e in new.encodings.iter().filter(|e| !old.encodings.contains(e)) {
        push(Rule::EncodingAdded, "service", format!("encoding `{e}` added"));
    }

    for m in &old.methods {
        match new.methods.iter().find(|n| n.name == m.name) {
            Some(n) => changes.extend(diff_method(old, new, m, n)),
            None => {
                let renamed = new
                    .methods
                    .iter()
                    .filter(|n| !old.methods.iter().any(|o| o.name == n.name))
                    .find(|n| same_signature(m, n));
                let message = match renamed {
                    Some(n) => format!("method removed (renamed to `{}`?): calls to it fail with METHOD_NOT_FOUND", n.name),
                    None => "method removed: calls to it fail with METHOD_NOT_FOUND".to_owned(),
                };
                changes.push(Change { rule: Rule::MethodRemoved, subject: m.name.clone(), path: String::new(), message });
            }
        }
    }
    for n in new.methods.iter().filter(|n| !old.methods.iter().any(|o| o.name == n.name)) {
        let message = format!("{} method added", n.kind.as_str());
        changes.push(Change { rule: Rule::MethodAdded, subject: n.name.clone(), path: String::new(), message });
    }

    for t in &old.topics {
        let subject = format!("topic {}", t.name);
        let Some(n) = new.topics.iter().find(|n| n.name == t.name) else {
            changes.push(Change { rule: Rule::TopicRemoved, subject, path: String::new(), message: "topic removed".into() });
            continue;
        };
        if n.publisher != t.publisher {
            let message = format!("published by the {} now, was by the {}", side(n.publisher), side(t.publisher));
            changes.push(Change { rule: Rule::TopicPublisherChanged, subject, path: String::new(), message });
            continue;
        }
        let flow = if t.publisher == Side::Server { Flow::Output } else { Flow::Input };
        changes.extend(types(old, new, &subject, [(&t.payload, &n.payload, flow, "payload")]));
    }
    for n in new.topics.iter().filter(|n| !old.topics.iter().any(|t| t.name == n.name)) {
        let message = format!("topic added, published by the {}", side(n.publisher));
        changes.push(Change { rule: Rule::TopicAdded, subject: format!("topic {}", n.name), path: String::new(), message });
    }

    for s in &old.states {
        let subject = format!("state {}", s.name);
        let Some(n) = new.states.iter().find(|n| n.name == s.name) else {
            changes.push(Change { rule: Rule::StateRemoved, subject, path: String::new(), message: "shared state removed".into() });
            continue;
        };
        if n.scope != s.scope {
            let message = format!("scope is now {:?}, was {:?}", n.scope, s.scope).to_lowercase();
            changes.push(Change { rule: Rule::StateScopeChanged, subject: subject.clone(), path: String::new(), message });
        }
        changes.extend(types(old, new, &subject, [(&s.schema, &n.schema, Flow::Output, "document")]));
    }
    for n in new.states.iter().filter(|n| !old.states.iter().any(|s| s.name == n.name)) {
        let message = "shared state added".to_owned();
        changes.push(Change { rule: Rule::StateAdded, subject: format!("state {}", n.name), path: String::new(), message });
    }

    for m in &old.machines {
        let subject = format!("machine {}", m.name);
        match new.machines.iter().find(|n| n.name == m.name) {
            Some(n) => changes.extend(diff_machine(old, new, &subject, m, n)),
            None => changes.push(Change { rule: Rule::MachineRemoved, subject, path: String::new(), message: "machine removed".into() }),
        }
    }
    for n in new.machines.iter().filter(|n| !old.machines.iter().any(|m| m.name == n.name)) {
        let message = format!("machine added, starting in `{}`", n.states.first().map_or("", |s| s.name.as_str()));
        changes.push(Change { rule: Rule::MachineAdded, subject: format!("machine {}", n.name), path: String::new(), message });
    }
    changes
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Server => "server",
        Side::Client => "clients",
    }
}

/// Two methods that take and give the same types: a removal and an addition that are
/// probably a rename.
fn same_signature(a: &MethodDoc, b: &MethodDoc) -> bool {
    (a.kind, a.side, &a.params, &a.result, &a.input, &a.output) == (b.kind, b.side, &b.params, &b.result, &b.input, &b.output)
}

fn diff_method(old_doc: &SchemaDocument, new_doc: &SchemaDocument, old: &MethodDoc, new: &MethodDoc) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut push = |rule: Rule, message: String| {
        changes.push(Change { rule, subject: old.name.clone(), path: String::new(), message });
    };
    if old.side != new.side {
        push(Rule::MethodSideChanged, format!("served by the {} now, was by the {}", side(new.side), side(old.side)));
        return changes;
    }
    if old.kind != new.kind {
        push(Rule::MethodShapeChanged, format!("is a {} method now, was {}", new.kind.as_str(), old.kind.as_str()));
    }
    match (&old.deprecated, &new.deprecated) {
        (None, Some(why)) => push(Rule::MethodDeprecated, format!("deprecated: {why}")),
        (Some(_), None) => push(Rule::MethodDeprecated, "no longer deprecated".into()),
        (Some(a), Some(b)) if a != b => push(Rule::MethodDeprecated, format!("deprecation now says: {b}")),
        _ => {}
    }
    if old.sequential != new.sequential {
        let message = if new.sequential { "one connection's calls now run one at a time" } else { "one connection's calls now run concurrently" };
        push(Rule::MethodSequentialChanged, message.into());
    }
    match (&old.operation, &new.operation) {
        (None, Some(_)) => push(Rule::MethodOperationAdded, "may now answer as a long-running operation".into()),
        (Some(_), None) => push(Rule::MethodOperationRemoved, "no longer answers as a long-running operation".into()),
        _ => {}
    }
    // What the caller sends is the input of a method the server serves; for a method
    // clients serve, the server is the caller.
    let sent = if old.side == Side::Server { Flow::Input } else { Flow::Output };
    let got = sent.reversed();
    let null = Value::Null;
    let opt = |v: &Option<Value>| v.clone().unwrap_or(Value::Null);
    let (old_result, new_result) = (opt(&old.result), opt(&new.result));
    let (old_input, new_input) = (opt(&old.input), opt(&new.input));
    let (old_output, new_output) = (opt(&old.output), opt(&new.output));
    let (old_error, new_error) = (opt(&old.error), opt(&new.error));
    let progress = |m: &MethodDoc| m.operation.as_ref().map_or(Value::Null, |o| o.progress.clone());
    let (old_progress, new_progress) = (progress(old), progress(new));
    let mut parts = vec![(&old.params, &new.params, sent, "params")];
    let both = |a: &Value, b: &Value| *a != null && *b != null;
    if both(&old_result, &new_result) {
        parts.push((&old_result, &new_result, got, "result"));
    }
    if both(&old_input, &new_input) {
        parts.push((&old_input, &new_input, sent, "input"));
    }
    if both(&old_output, &new_output) {
        parts.push((&old_output, &new_output, got, "output"));
    }
    if both(&old_error, &new_error) {
        parts.push((&old_error, &new_error, got, "error"));
    }
    if both(&old_progress, &new_progress) {
        parts.push((&old_progress, &new_progress, got, "progress"));
    }
    changes.extend(types(old_doc, new_doc, &old.name, parts));
    changes
}

fn diff_machine(old_doc: &SchemaDocument, new_doc: &SchemaDocument, subject: &str, old: &MachineDoc, new: &MachineDoc) -> Vec<Change> {
    let mut changes = Vec::new();
    let at = |rule: Rule, path: &str, message: String| Change { rule, subject: subject.to_owned(), path: path.to_owned(), message };
    let initial = |m: &MachineDoc| m.states.first().map(|s| s.name.clone()).unwrap_or_default();
    if initial(old) != initial(new) {
        let message = format!("sessions start in `{}` now, were in `{}`", initial(new), initial(old));
        changes.push(at(Rule::MachineInitialStateChanged, "", message));
    }
    let mut parts: Vec<(Value, Value, Flow, String)> = vec![(old.transmit.clone(), new.transmit.clone(), Flow::Output, "transmit".into())];
    for s in &old.states {
        let path = format!("states.{}", s.name);
        let Some(n) = new.states.iter().find(|n| n.name == s.name) else {
            changes.push(at(Rule::MachineStateRemoved, &path, format!("state `{}` removed", s.name)));
            continue;
        };
        if s.targets != n.targets {
            let list = |t: &Option<Vec<String>>| t.as_ref().map_or("any state".to_owned(), |t| if t.is_empty() { "none".to_owned() } else { t.join(", ") });
            let message = format!("may move to {} now, was {}", list(&n.targets), list(&s.targets));
            changes.push(at(Rule::MachineTargetsChanged, &path, message));
        }
        parts.push((s.data.clone(), n.data.clone(), Flow::Output, format!("{path}.data")));
        for e in &s.events {
            let event_path = format!("{path}.events.{}", e.name);
            let Some(ne) = n.events.iter().find(|ne| ne.name == e.name) else {
                let message = format!("state `{}` no longer accepts event `{}`", s.name, e.name);
                changes.push(at(Rule::MachineEventRemoved, &event_path, message));
                continue;
            };
            parts.push((e.data.clone(), ne.data.clone(), Flow::Input, format!("{event_path}.data")));
            parts.push((e.result.clone(), ne.result.clone(), Flow::Output, format!("{event_path}.result")));
        }
        for ne in n.events.iter().filter(|ne| !s.events.iter().any(|e| e.name == ne.name)) {
            let message = format!("state `{}` accepts event `{}`", s.name, ne.name);
            changes.push(at(Rule::MachineEventAdded, &format!("{path}.events.{}", ne.name), message));
        }
    }
    for n in new.states.iter().filter(|n| !old.states.iter().any(|s| s.name == n.name)) {
        let message = format!("state `{}` added: existing clients do not know it", n.name);
        changes.push(at(Rule::MachineStateAdded, &format!("states.{}", n.name), message));
    }
    changes.extend(types(old_doc, new_doc, subject, parts.iter().map(|(o, n, f, p)| (o, n, *f, p.as_str()))));
    changes
}

/// Compares each `(old, new, flow, path)` of one subject, sharing the memory of the
/// definitions already compared.
fn types<'v>(old: &SchemaDocument, new: &SchemaDocument, subject: &str, parts: impl IntoIterator<Item = (&'v Value, &'v Value, Flow, &'v str)>) -> Vec<Change> {
    let mut diff = TypeDiff::new(&old.defs, &new.defs, subject);
    for (o, n, flow, path) in parts {
        diff.compare(o, n, flow, path);
    }
    diff.changes
}
