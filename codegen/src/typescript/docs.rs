//! TSDoc comments: the lines of a method's, a type's and the client's docs, and the short
//! forms the README lists.

use crate::ir::{self, Shape};
use crate::names::doc_text;

use super::names::string_literal;

pub(super) fn method_docs(m: &ir::Method) -> Vec<String> {
    let mut lines = doc_text(&m.description);
    if m.error.is_some() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(
            "@throws {{VolleyError}} code `APPLICATION` (1000) with typed `data`; narrow it with `isMethodError(err, {})`.",
            string_literal(&m.name)
        ));
    }
    if let Some(d) = &m.deprecated {
        lines.push(if d.is_empty() { "@deprecated".into() } else { format!("@deprecated {d}") });
    }
    doc_lines(&lines)
}


/// A TSDoc block as lines, or nothing for no text. `*/` in the text is broken up so it
/// cannot end the comment.
pub fn doc_lines(lines: &[String]) -> Vec<String> {
    if lines.iter().all(|l| l.trim().is_empty()) {
        return vec![];
    }
    let mut out = vec!["/**".to_string()];
    for l in lines {
        let l = l.trim_end().replace("*/", "*\\/");
        out.push(if l.is_empty() { " *".into() } else { format!(" * {l}") });
    }
    out.push(" */".into());
    out
}


/// A call shape in words, for docs.
pub(super) fn shape_words(kind: Shape) -> &'static str {
    match kind {
        Shape::Unary => "unary",
        Shape::ServerStream => "server stream",
        Shape::ClientStream => "client stream",
        Shape::BidiStream => "bidirectional stream",
    }
}

/// The first sentence-ish line of a method's docs, for one-line lists.
pub(super) fn summary(m: &ir::Method) -> String {
    m.description.as_deref().and_then(|d| d.lines().next()).unwrap_or_default().trim().to_string()
}
