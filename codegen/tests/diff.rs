//! Runs `volley diff` on the fixture pairs under tests/fixtures/diff: one folder per
//! rule (named by its id, holding `old.json`, `new.json` and the `expected.txt` report),
//! plus `no-changes` and `renamed`. Every rule must have its folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use volley_cli::diff::{Level, Rule};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/diff");

fn volley(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volley")).args(args).output().expect("the volley binary runs")
}

fn pair(dir: &Path) -> (String, String) {
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    (file("old.json"), file("new.json"))
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(FIXTURES).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

#[test]
fn every_rule_has_a_fixture_pair() {
    let missing: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).filter(|id| !Path::new(FIXTURES).join(id).join("old.json").is_file()).collect();
    assert!(missing.is_empty(), "rules without a fixture pair under {FIXTURES}: {missing:?}");
    let help = String::from_utf8(volley(&["diff", "--help"]).stdout).unwrap();
    for rule in Rule::ALL {
        assert!(help.contains(&format!("  {:<30} {:<10}  {}", rule.id(), rule.level().as_str(), rule.description())), "--help lacks {rule}:\n{help}");
    }
}

#[test]
fn each_rule_fixture_reports_that_rule_alone_and_exits_by_its_level() {
    for rule in Rule::ALL {
        let (old, new) = pair(&Path::new(FIXTURES).join(rule.id()));
        let out = volley(&["diff", &old, &new, "--format", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{rule}: not JSON ({e})"));
        let changes = report["changes"].as_array().unwrap();
        assert!(!changes.is_empty(), "{rule}: no change found");
        for change in changes {
            assert_eq!(change["rule"], rule.id(), "{rule}: {change}");
            assert_eq!(change["level"], rule.level().as_str(), "{rule}: {change}");
        }
        let expected = match rule.level() {
            Level::Breaking => 1,
            Level::Compatible => 0,
        };
        assert_eq!(out.status.code(), Some(expected), "{rule}: exit status; stderr: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(report["breaking"].as_u64().unwrap() > 0, expected == 1, "{rule}: {report}");
    }
}

#[test]
fn the_text_report_of_each_pair_is_the_expected_one() {
    for dir in fixture_dirs() {
        let (old, new) = pair(&dir);
        let out = volley(&["diff", &old, &new]);
        let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{}", dir.display());
    }
}

#[test]
fn identical_schemas_exit_0_with_no_changes() {
    let (old, new) = pair(&Path::new(FIXTURES).join("no-changes"));
    let out = volley(&["diff", &old, &new, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report, serde_json::json!({"breaking": 0, "compatible": 0, "changes": []}));
    // Every type shape, recursive ones included.
    let shapes = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");
    let out = volley(&["diff", shapes, shapes]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(0), "no changes\n"));
}

#[test]
fn a_removed_method_with_the_signature_of_an_added_one_is_named_as_a_likely_rename() {
    let (old, new) = pair(&Path::new(FIXTURES).join("renamed"));
    let out = volley(&["diff", &old, &new]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cart.watch: method removed (renamed to `cart.events`?)"));
}

#[test]
fn a_schema_that_cannot_be_read_exits_2_and_says_why() {
    let (old, _) = pair(&Path::new(FIXTURES).join("no-changes"));
    let dir = std::env::temp_dir().join(format!("volley-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_schema = dir.join("not-schema.json");
    std::fs::write(&not_schema, r#"{"hello": "world"}"#).unwrap();
    let future = dir.join("future.json");
    std::fs::write(&future, r#"{"volley": 99, "name": "s", "methods": []}"#).unwrap();
    for (path, phrase) in [
        (not_schema.to_string_lossy().into_owned(), "is not a volley schema document"),
        (future.to_string_lossy().into_owned(), "schema format version 99"),
        ("/nonexistent/schema.json".to_owned(), "cannot read schema file /nonexistent/schema.json"),
    ] {
        let out = volley(&["diff", &old, &path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(err.starts_with("error: ") && err.contains(phrase), "{path}: {err}");
        assert!(out.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
