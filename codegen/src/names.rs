//! Naming rules every language's model shares: how a service's and a method's names
//! become package, class and member names, and how doc text is split into lines.
//! What differs per language (keywords, casing of members, escaping) stays in its
//! module.

/// `["calc", "add_one"]` → `CalcAddOne`: each alphanumeric word capitalised and joined.
pub fn pascal(path: &[String]) -> String {
    path.iter()
        .flat_map(|p| p.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The default package name of a service's SDK: `Calculator Service` →
/// `calculator-service-client` (`volley-client` for a name with no letters or digits).
pub fn package_name(service: &str) -> String {
    let mut out = String::new();
    for c in service.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() { "volley-client".into() } else { format!("{out}-client") }
}

/// Whether a method is one of the protocol's own (`volley.*`), which an SDK reaches
/// through its runtime rather than as a generated method.
pub fn is_reserved_method(name: &str) -> bool {
    name.starts_with("volley.")
}

/// A description as lines without trailing spaces (none for no description).
pub fn doc_text(description: &Option<String>) -> Vec<String> {
    description.as_deref().map(|d| d.lines().map(|l| l.trim_end().to_string()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal(&["calc".into(), "add_one".into()]), "CalcAddOne");
        assert_eq!(pascal(&["2d-point".into()]), "2dPoint");
        assert_eq!(package_name("Calculator Service!"), "calculator-service-client");
        assert_eq!(package_name("***"), "volley-client");
        assert!(is_reserved_method("volley.subscribe") && !is_reserved_method("volleyball"));
        assert_eq!(doc_text(&Some("a  \n b".into())), ["a", " b"]);
        assert!(doc_text(&None).is_empty());
    }
}
