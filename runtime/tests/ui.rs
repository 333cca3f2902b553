//! Mistakes in user code are spanned compile errors with a hint; one mistake per file
//! under `tests/ui/`, each pinned by its `.stderr`. Refresh with `TRYBUILD=overwrite`.

#[test]
fn macro_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
