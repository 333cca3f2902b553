#!/usr/bin/env bash
# The protocol conformance suite: a raw client written from PROTOCOL.md alone
# (volleyc.py; not the generated SDK) checks the example servers against every MUST,
# bad-input rule and worked example of the spec.
#
#   1. creates a virtualenv in tests/conformance/.venv and installs requirements.txt,
#   2. builds the example servers (calculator, streams, hooks, device, machines),
#   3. starts each on a free port (tests/lib.sh exports VOLLEY_<NAME>_URL) and exports
#      VOLLEY_STREAMS_BIN so the draining checks can start and signal servers of their own,
#   4. runs the checks with pytest, in both encodings.
#
# Exits non-zero on any failure. Servers it starts are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

# shellcheck source=../lib.sh
source "$here/../lib.sh"

venv "$here"
examples=(calculator streams hooks device machines)
build_examples "${examples[@]}"
export VOLLEY_STREAMS_BIN="$target_dir/debug/streams"

for name in "${examples[@]}"; do
  step "start: $name"
  start_example "$target_dir/debug" "$name" conformance
done

step "pytest"
"$py" -m pytest -q "$@"
