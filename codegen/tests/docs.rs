//! `volley docs`: the Markdown reference of the shapes fixture, pinned by an insta
//! snapshot (review changes with `cargo insta review`), and of a live server; every
//! link in it leads to an anchor in it.

mod live;

use std::collections::BTreeSet;
use std::path::Path;

use live::{scratch, serve, text, volley};

const SHAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");

/// Runs `volley docs --schema SCHEMA --out DIR`, asserting it succeeded; returns the
/// names of the files written and the text of `index.md`.
fn docs(schema: &str, out: &Path) -> (Vec<String>, String) {
    let o = volley(&["docs", "--schema", schema, "--out", out.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("wrote index.md to"), "{}", text(&o.stderr));
    let mut files: Vec<String> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    (files, std::fs::read_to_string(out.join("index.md")).unwrap())
}

/// Every `](#anchor)` link has an `<a id="anchor">`, and no anchor is declared twice.
fn assert_links_resolve(md: &str) {
    let mut ids = BTreeSet::new();
    for part in md.split("<a id=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(ids.insert(id.to_string()), "anchor {id} declared twice");
    }
    for part in md.split("](#").skip(1) {
        let target = &part[..part.find(')').unwrap()];
        assert!(ids.contains(target), "link to #{target}, which no anchor declares");
    }
}

#[test]
fn the_shapes_reference() {
    let dir = scratch("docs-shapes");
    let (files, md) = docs(SHAPES, &dir);
    assert_eq!(files, ["index.md"]);
    assert_links_resolve(&md);
    // A section per namespace, in the table of contents too.
    for heading in ["### Top level", "### Namespace `calc`", "### Namespace `calc.sci`", "### Namespace `ui`"] {
        assert!(md.lines().any(|l| l == heading), "no {heading}");
    }
    assert!(md.contains("  - [Namespace `calc`](#namespace-calc)\n"));
    // A method: signature, docs, parameters table, result, error, deprecation.
    assert!(md.contains("```text\nunary calc.divide(a: number, b: number) -> number throws DivError\n```\n\nDivide a by b.\n\nFails when b is zero.\n"));
    assert!(md.contains("| `a` | `number` | yes |  |\n"));
    assert!(md.contains("**Error:** [`DivError`](#type-diverror), the `data` of its `APPLICATION` (1000) errors."));
    assert!(md.contains("> **Deprecated:** use calc.power\n"));
    // Field descriptions and constraints from the JSON Schema, pipes escaped in cells.
    assert!(md.contains("| `omitted` | `integer \\| null` | no | May be left out entirely. (int32) |\n"));
    assert!(md.contains("| `slug` | `string` | yes | min length 1, max length 20, pattern `^[a-z]+$` |\n"));
    insta::assert_snapshot!("shapes_index_md", md);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_live_servers_reference() {
    let url = serve(calculator::router());
    let dir = scratch("docs-calculator");
    let (_, md) = docs(&url, &dir);
    assert_links_resolve(&md);
    assert!(md.starts_with("# calculator 0.1.0\n\nA calculator: the volley example service.\n"), "{md}");
    assert!(md.contains("<a id=\"method-calc.evaluate\"></a>\n#### `calc.evaluate`\n\n```text\nunary calc.evaluate(batch: Batch) -> Report\n```\n"), "{md}");
    assert!(md.contains("| `batch` | [`Batch`](#type-batch) | yes |  |\n"), "{md}");
    assert!(md.contains("| `label` | `string` | yes | A label echoed in the report. (min length 1, max length 64) |\n"), "{md}");
    assert!(md.contains("| `tags` | `string[]` | no | Free-form tags. (default []) |\n"), "{md}");
    assert!(md.contains("Every volley server also answers the protocol's own methods: `volley.introspect`, `volley.subscribe`, `volley.unsubscribe`."), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_schema_that_cannot_be_read_writes_nothing() {
    let dir = scratch("docs-missing");
    let out = dir.join("out");
    let o = volley(&["docs", "--schema", "/nonexistent/schema.json", "--out", out.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("cannot read schema file /nonexistent/schema.json"), "{}", text(&o.stderr));
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
