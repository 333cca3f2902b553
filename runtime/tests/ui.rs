//! The macros as a user's compiler sees them, through trybuild: `tests/ui/pass/` holds
//! declarations that must compile (and run), `tests/ui/fail/` mistakes that must each be
//! one spanned error with a hint, pinned by its `.stderr`. Refresh the pins with
//! `TRYBUILD=overwrite cargo test -p volley --test ui`.

use std::sync::Mutex;

/// Both tests build in trybuild's one scratch project; taking turns lets the second
/// reuse what the first compiled instead of waiting on the same build.
static SCRATCH: Mutex<()> = Mutex::new(());

#[test]
fn macros_accept() {
    let _turn = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
    trybuild::TestCases::new().pass("tests/ui/pass/*.rs");
}

/// rustc's wording and layout change between releases, so the pinned messages are
/// compared only on the release they were written with; on another toolchain this test
/// reports itself ignored, with the reason, while `macros_accept`, the expansion
/// snapshots and the macros' unit tests still run.
#[rustversion::attr(not(stable(1.95)), ignore = "the .stderr pins are rustc 1.95's wording")]
#[test]
fn macro_errors() {
    let _turn = SCRATCH.lock().unwrap_or_else(|e| e.into_inner());
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*.rs");
}
