//! Keeps `tests/fixtures/shapes.json` equal to what schemars emits for the fixture types.

#[path = "fixture/shapes.rs"]
mod shapes;

#[test]
fn shapes_fixture_matches_schemars() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shapes.json");
    let fresh = serde_json::to_string_pretty(&shapes::document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == fresh,
        "tests/fixtures/shapes.json is out of date; rerun with UPDATE_FIXTURES=1"
    );
}
