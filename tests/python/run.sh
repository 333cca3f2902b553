#!/usr/bin/env bash
# End-to-end tests of the generated Python SDK.
#
#   1. creates a virtualenv in tests/python/.venv and installs requirements.txt,
#   2. builds the `volley` CLI and the example servers,
#   3. generates the SDK of the fixture schema and of every example server it starts
#      (from the running server's /schema), and checks the example SDKs against the
#      ones checked in at examples/<name>/sdk/python,
#   4. installs them with pip and type-checks them and the tests with `mypy --strict`,
#   5. (first of all) unit-tests the runtime modules in templates/python/_runtime and
#      type-checks them, without a server,
#   6. runs the suite with pytest, in both encodings; with credentials and TLS: the
#      hooks example's SDK (generated here, not checked in) sending headers on the
#      upgrade, and the calculator's over wss:// to two TLS calculators with
#      certificates made for this run.
#
# Exits non-zero on any failure. Servers it starts are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

# shellcheck source=../lib.sh
source "$here/../lib.sh"

python="${PYTHON:-python3}"
step "virtualenv: $here/.venv"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
py="$here/.venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check -r requirements.txt

# The runtime modules every SDK vendors, in place: unit tests (no server) and
# `mypy --strict`, checked as the package `_runtime` (a copy: `templates/python` also
# holds the `types.py` template, which would shadow the standard library's).
step "pytest: runtime unit tests (templates/python/_runtime)"
"$py" -m pytest -q -p no:cacheprovider unit
rm -rf generated
mkdir -p generated/runtime
cp -r "$root/templates/python/_runtime" generated/runtime/
step "mypy --strict: runtime modules and their unit tests"
(cd generated/runtime && "$py" -m mypy --strict --no-incremental -p _runtime)
MYPYPATH="$here/generated/runtime" "$py" -m mypy --strict --no-incremental unit

examples=(calculator streams device machines)

step "cargo build: volley ${examples[*]} hooks"
packages=(-p volley-cli -p hooks)
for name in "${examples[@]}"; do packages+=(-p "$name"); done
(cd "$root" && nice -n 10 cargo build --quiet "${packages[@]}")
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | "$py" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
volley="$target_dir/debug/volley"
export VOLLEY_STREAMS_BIN="$target_dir/debug/streams"

rm -rf generated/shapes generated/calculator generated/streams generated/device generated/machines generated/hooks
step "generate: fixture schema"
"$volley" generate python --schema "$root/codegen/tests/fixtures/shapes.json" --out generated/shapes

stale=()
for name in "${examples[@]}"; do
  start_example "$target_dir/debug" "$name" py
  step "generate: $name (from http://127.0.0.1:$port/schema)"
  "$volley" generate python --schema "http://127.0.0.1:$port/schema" --out "generated/$name" --package-name "$name-client"
  if ! diff -r "generated/$name" "$root/examples/$name/sdk/python" > "generated/$name.diff"; then
    stale+=("$name")
  fi
done
if (( ${#stale[@]} )); then
  for name in "${stale[@]}"; do
    cat "generated/$name.diff"
    echo
    echo "examples/$name/sdk/python is out of date with the server's schema. Refresh it with:"
    echo "  cargo run -p $name -- --addr 127.0.0.1:8123 &"
    echo "  cargo run -p volley-cli -- generate python --schema http://127.0.0.1:8123/schema --out examples/$name/sdk/python --package-name $name-client"
  done
  exit 1
fi

# Credentials: the hooks server authenticates by a header on the upgrade. Its SDK is
# generated for the tests only.
start_example "$target_dir/debug" hooks py
step "generate: hooks (from http://127.0.0.1:$port/schema)"
"$volley" generate python --schema "http://127.0.0.1:$port/schema" --out generated/hooks --package-name hooks-client

# TLS: calculators serving wss:// with this run's certificates, one for 127.0.0.1 and
# one for another host name.
make_test_pki
start_example_tls "$target_dir/debug" calculator py "$pki/leaf.pem" "$pki/leaf.key" VOLLEY_CALCULATOR_TLS_URL
start_example_tls "$target_dir/debug" calculator py "$pki/other.pem" "$pki/other.key" VOLLEY_CALCULATOR_OTHER_HOST_URL
echo "TLS calculators: $VOLLEY_CALCULATOR_TLS_URL (127.0.0.1), $VOLLEY_CALCULATOR_OTHER_HOST_URL (other.invalid)"

step "pip install the generated SDKs"
"$py" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps generated/shapes generated/calculator generated/streams generated/device generated/machines generated/hooks

for sdk in generated/*/; do
  name="$(basename "$sdk")"
  [[ $name == runtime ]] && continue
  step "mypy --strict: $name SDK"
  (cd "$sdk" && "$py" -m mypy --strict --no-incremental "${name}_client")
done
step "mypy --strict: tests"
"$py" -m mypy --strict --no-incremental tests

step "pytest"
"$py" -m pytest -q
