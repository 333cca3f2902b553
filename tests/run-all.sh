#!/usr/bin/env bash
# Runs every volley test: the Rust workspace (unit, property, integration and
# compile-fail tests), then each SDK's end-to-end suite under tests/<language>/run.sh,
# which generates the SDKs from the running example servers, type-checks them and
# drives them against those servers.
#
# Needs cargo, Node 20+ with npm, and Python 3.11+; installs npm and pip packages
# itself (pip into a virtualenv under tests/python/.venv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

echo "== cargo test --workspace"
cargo test --workspace --quiet

for suite in tests/*/run.sh; do
  echo
  echo "== $suite"
  bash "$suite"
done
echo
echo "all tests passed"
