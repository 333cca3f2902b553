#!/usr/bin/env bash
# Runs every volley test: the Rust workspace (unit, property, integration and
# compile-fail tests), the docs with warnings denied, `cargo package` of every crate,
# every fuzz seed and reproducer replayed through its target (fuzz/replay.sh; fuzzing
# itself is fuzz/run.sh, see FUZZING.md), then each end-to-end suite under tests/<name>/run.sh:
# the SDKs' (generated from the running example servers, type-checked and driven
# against them), the protocol conformance suite and the hostile-client suite.
#
# Needs cargo, Node 20+ with npm, and Python 3.11+; installs npm and pip packages
# itself (pip into a virtualenv under tests/python/.venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Each step says how long it took, so a slow CI run shows where its time went.
step_start=$SECONDS
step() {
  if [ -n "${step_name:-}" ]; then
    echo "-- $step_name: $((SECONDS - step_start)) s"
  fi
  step_name="$1"
  step_start=$SECONDS
  echo
  echo "== $1"
}

step "cargo test --workspace"
cargo test --workspace --quiet

step "cargo doc --workspace --no-deps (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "cargo package: the published crates built from their packages, the examples listed"
cargo package --workspace --allow-dirty --quiet --exclude calculator --exclude streams --exclude hooks --exclude axum-app --exclude device --exclude machines
cargo package --allow-dirty --quiet --no-verify -p calculator -p streams -p hooks -p axum-app -p device -p machines

step "fuzz/replay.sh (every seed and reproducer through its target; FUZZING.md records the fuzzing runs)"
bash fuzz/replay.sh

for suite in tests/*/run.sh; do
  step "$suite"
  bash "$suite"
done
step "all tests passed in $SECONDS s"
