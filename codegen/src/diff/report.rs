//! Writing a list of changes for people (one line each, breaking ones first) and for CI
//! (`--format json`).

use serde_json::json;

use super::{breaking_count, Change};

/// One line per change, breaking changes first, then a count:
///
/// ```text
/// breaking    calc.add params.b: parameter `b` added without a default: existing calls leave it out [required-field-added]
/// compatible  calc.sub: unary method added [method-added]
///
/// 2 changes: 1 breaking, 1 compatible
/// ```
pub fn render_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no changes\n".to_owned();
    }
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by_key(|c| c.level());
    let mut out = String::new();
    for c in sorted {
        let place = if c.path.is_empty() { c.subject.clone() } else { format!("{} {}", c.subject, c.path) };
        out.push_str(&format!("{:<11} {place}: {} [{}]\n", c.level().as_str(), c.message, c.rule.id()));
    }
    let breaking = breaking_count(changes);
    let noun = if changes.len() == 1 { "change" } else { "changes" };
    out.push_str(&format!("\n{} {noun}: {breaking} breaking, {} compatible\n", changes.len(), changes.len() - breaking));
    out
}

/// The changes as one JSON document:
/// `{"breaking": 1, "compatible": 1, "changes": [{"level", "rule", "subject", "path", "message"}]}`,
/// in the order they were found.
pub fn render_json(changes: &[Change]) -> serde_json::Value {
    let breaking = breaking_count(changes);
    json!({
        "breaking": breaking,
        "compatible": changes.len() - breaking,
        "changes": changes.iter().map(|c| json!({
            "level": c.level().as_str(),
            "rule": c.rule.id(),
            "subject": c.subject,
            "path": c.path,
            "message": c.message,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Level, Rule};

    #[test]
    fn breaking_changes_come_first_and_are_counted() {
        let changes = [
            Change { rule: Rule::MethodAdded, subject: "b".into(), path: String::new(), message: "unary method added".into() },
            Change { rule: Rule::MethodRemoved, subject: "a".into(), path: String::new(), message: "method removed".into() },
        ];
        let text = render_text(&changes);
        assert!(text.starts_with("breaking    a: method removed [method-removed]\ncompatible  b:"), "{text}");
        assert!(text.ends_with("2 changes: 1 breaking, 1 compatible\n"), "{text}");
        assert_eq!(render_json(&changes)["breaking"], 1);
        assert_eq!(Level::Breaking.as_str(), "breaking");
    }
}
