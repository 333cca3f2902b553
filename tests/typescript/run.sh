#!/usr/bin/env bash
# End-to-end tests of the generated TypeScript SDK.
#
#   1. installs the npm dependencies (npm ci), and runs the unit tests of the runtime
#      modules in templates/typescript/runtime/ (unit/*.test.ts, no server),
#   2. builds the `volley` CLI and the example servers,
#   3. generates the SDK of the fixture schema and of every example server it starts,
#   4. checks that each example's SDK equals the one checked in under
#      examples/<name>/sdk/typescript,
#   5. type-checks each SDK with `tsc --strict --noEmit`,
#   6. runs the suites with `node --test`: the fixture SDK against a fake server, and
#      each example's SDK against its running server, in both encodings, and the
#      README's TypeScript snippets (compiled with `tsc --strict`) against the servers;
#      also credentials and TLS: the hooks example's SDK (generated here, not checked
#      in) sending headers on the upgrade, and the calculator's over wss:// to two TLS
#      calculators with certificates made for this run.
#
#   bash tests/typescript/run.sh --update-sdks
#      rewrites the checked-in example SDKs from the servers instead of failing on a
#      difference.
#
# Exits non-zero on any failure. Servers it starts are stopped on exit.
set -euo pipefail

update_sdks=0
for arg in "$@"; do
  case "$arg" in
    --update-sdks) update_sdks=1 ;;
    *) echo "usage: run.sh [--update-sdks]" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

# shellcheck source=../lib.sh
source "$here/../lib.sh"

step "npm ci"
npm ci --no-audit --no-fund

step "runtime unit tests (templates/typescript/runtime)"
rm -rf dist/unit
./node_modules/.bin/tsc -p tsconfig.unit.json
node --test dist/unit/tests/typescript/unit/

examples=()
for name in calculator streams device machines; do
  [[ -f "$root/examples/$name/Cargo.toml" ]] && examples+=("$name")
done

step "cargo build: volley ${examples[*]} hooks"
packages=(-p volley-cli -p hooks)
for name in "${examples[@]}"; do packages+=(-p "$name"); done
(cd "$root" && nice -n 10 cargo build --quiet "${packages[@]}")
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
volley="$target_dir/debug/volley"

rm -rf generated dist
step "generate: fixture schema"
"$volley" generate typescript --schema "$root/codegen/tests/fixtures/shapes.json" --out generated/shapes

for name in "${examples[@]}"; do
  start_example "$target_dir/debug" "$name" ts
  step "generate: $name (from http://127.0.0.1:$port/schema)"
  "$volley" generate typescript --schema "http://127.0.0.1:$port/schema" --out "generated/$name" --package-name "$name-client"
  checked_in="$root/examples/$name/sdk/typescript"
  if [[ $update_sdks == 1 ]]; then
    rm -rf "$checked_in"
    mkdir -p "$checked_in"
    cp -R "generated/$name/." "$checked_in/"
    echo "updated examples/$name/sdk/typescript"
  elif ! diff -ru "$checked_in" "generated/$name"; then
    echo >&2
    echo "examples/$name/sdk/typescript differs from the SDK generated from the running $name server." >&2
    echo "Refresh the checked-in SDKs with:  bash tests/typescript/run.sh --update-sdks" >&2
    exit 1
  fi
done

# Credentials: the hooks server authenticates by a header on the upgrade. Its SDK is
# generated for the tests only.
start_example "$target_dir/debug" hooks ts
step "generate: hooks (from http://127.0.0.1:$port/schema)"
"$volley" generate typescript --schema "http://127.0.0.1:$port/schema" --out generated/hooks --package-name hooks-client

# TLS: calculators serving wss:// with this run's certificates, one for 127.0.0.1 and
# one for another host name.
make_test_pki
start_example_tls "$target_dir/debug" calculator ts "$pki/leaf.pem" "$pki/leaf.key" VOLLEY_CALCULATOR_TLS_URL
start_example_tls "$target_dir/debug" calculator ts "$pki/other.pem" "$pki/other.key" VOLLEY_CALCULATOR_OTHER_HOST_URL
echo "TLS calculators: $VOLLEY_CALCULATOR_TLS_URL (127.0.0.1), $VOLLEY_CALCULATOR_OTHER_HOST_URL (other.invalid)"

for sdk in generated/*/; do
  step "tsc --strict --noEmit: $sdk"
  ./node_modules/.bin/tsc --strict --noEmit -p "$sdk/tsconfig.json"
done

step "tsc: tests"
./node_modules/.bin/tsc -p tsconfig.json
# Each example's suite compiles only when its server ran and its SDK was generated.
for name in "${examples[@]}"; do
  [[ -f "src/examples/$name.test.ts" ]] || continue
  cat > "dist/tsconfig.$name.json" <<JSON
{ "extends": "../tsconfig.json", "compilerOptions": { "rootDir": "..", "outDir": "." },
  "include": ["../src/examples/$name.test.ts", "../generated/$name/src"] }
JSON
  ./node_modules/.bin/tsc -p "dist/tsconfig.$name.json"
done
# Credentials and TLS: the hooks SDK's headers, and the calculator's over wss://.
cat > dist/tsconfig.credentials.json <<JSON
{ "extends": "../tsconfig.json", "compilerOptions": { "rootDir": "..", "outDir": "." },
  "include": ["../src/examples/hooks.test.ts", "../src/examples/tls.test.ts", "../generated/hooks/src", "../generated/calculator/src"] }
JSON
./node_modules/.bin/tsc -p dist/tsconfig.credentials.json
# The README's snippets (compiled and run by the test itself) need the three servers.
if [[ " ${examples[*]} " == *" calculator "* && " ${examples[*]} " == *" streams "* && " ${examples[*]} " == *" device "* ]]; then
  cat > dist/tsconfig.readme.json <<JSON
{ "extends": "../tsconfig.json", "compilerOptions": { "rootDir": "..", "outDir": "." },
  "include": ["../src/examples/readme.test.ts"] }
JSON
  ./node_modules/.bin/tsc -p dist/tsconfig.readme.json
fi

step "node --test"
# One file at a time: the files share the example servers, and the device's position
# and emergency halt are server-wide, so one file's moves must not land in another's.
node --test --test-concurrency=1 "dist/src/"
echo "TypeScript SDK suites passed"
