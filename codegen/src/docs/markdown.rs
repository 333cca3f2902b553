//! Markdown pieces that stay what they are wherever they land: inline code that may
//! hold backticks, table cells that may hold `|` and line breaks, code blocks that may
//! hold fences, and anchors a link can reach.

/// Inline code: a fence longer than any run of backticks in `text`, padded when `text`
/// starts or ends with one.
pub fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Text for a table cell: `|` escaped (inside code spans too, as GitHub's tables
/// require), line breaks as `<br>`, paragraphs kept apart.
pub fn cell(text: &str) -> String {
    text.trim().replace('|', "\\|").replace("\n\n", "<br><br>").replace('\n', " ")
}

/// A fenced code block of `lines`, with a fence longer than any in them.
pub fn fence(lang: &str, lines: &[String]) -> String {
    let longest = lines
        .iter()
        .map(|l| {
            let t = l.trim_start();
            t.len() - t.trim_start_matches('`').len()
        })
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}", lines.join("\n"))
}

/// An anchor id for an item of a kind: `type-tree`, `method-calc.evaluate`. Lower
/// case, since some renderers lower-case what a link points to; letters, digits, `.`,
/// `_` and `-` kept, anything else as `-`.
pub fn anchor(kind: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if name.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}-{name}")
    }
}

/// A link to an anchor in the same page, its text as inline code.
pub fn code_link(text: &str, anchor: &str) -> String {
    format!("[{}](#{anchor})", code(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_cells() {
        assert_eq!(code("a | b"), "`a | b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`"), "`` ` ``");
        assert_eq!(cell(&code("string | null")), "`string \\| null`");
        assert_eq!(cell("one\ntwo\n\nthree"), "one two<br><br>three");
    }

    #[test]
    fn anchors_and_fences() {
        assert_eq!(anchor("type", "Tree"), "type-tree");
        assert_eq!(anchor("method", "calc.sci.pow"), "method-calc.sci.pow");
        assert_eq!(anchor("type", "Page<T>"), "type-page-t-");
        assert_eq!(anchor("namespace", ""), "namespace");
        assert_eq!(fence("ts", &["a".into()]), "```ts\na\n```");
        assert_eq!(fence("", &["````".into()]), "`````\n````\n`````");
    }
}
