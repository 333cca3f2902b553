#!/usr/bin/env bash
# End-to-end tests of the generated TypeScript SDK in a real browser: headless Chromium.
#
#   1. makes sure Debian's chromium is installed (installs it with apt-get when run as
#      root; otherwise says how),
#   2. installs the npm dependencies (npm ci),
#   3. builds the example servers and starts them on free ports, and two calculators
#      serving wss:// with certificates made for this run (tests/lib.sh make_test_pki):
#      one whose key Chromium is told to trust (--ignore-certificate-errors-spki-list),
#      one it is not,
#   4. compiles the checked-in SDKs examples/{calculator,streams}/sdk/typescript and the
#      test page (page/) to plain ES modules with tsc, into build/www,
#   5. runs test/browser.test.mjs with `node --test`: it serves build/www from a small
#      static HTTP server, loads the page in headless Chromium, has it drive both
#      servers over the browser's native WebSocket in both encodings (and wss://), and
#      asserts on what the page reports and on the frames Chromium saw.
#   6. runs test/docs.test.mjs: opens the playground each server serves at /docs and
#      clicks through calls and a subscription there, saving screenshots in screenshots/.
#
# Exits non-zero on any failure. Servers it starts are stopped on exit; the browser is
# closed by the test.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

chromium=/usr/bin/chromium

# shellcheck source=../lib.sh
source "$here/../lib.sh"

step "chromium"
if [[ ! -x $chromium ]]; then
  if [[ $(id -u) == 0 ]]; then
    echo "$chromium is missing: installing Debian's chromium package"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
  else
    echo "$chromium is missing. These tests need Debian's chromium package; install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
    exit 1
  fi
fi
[[ -x $chromium ]] || { echo "$chromium is still missing after installing chromium" >&2; exit 1; }
"$chromium" --version 2>/dev/null || true

step "npm ci"
npm ci --no-audit --no-fund

step "cargo build: calculator streams machines"
(cd "$root" && nice -n 10 cargo build --quiet -p calculator -p streams -p machines)
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"

for name in calculator streams machines; do
  start_example "$target_dir/debug" "$name" browser
  echo "$name: ws://127.0.0.1:$port/"
done

make_test_pki
start_example_tls "$target_dir/debug" calculator browser "$pki/leaf.pem" "$pki/leaf.key" VOLLEY_CALCULATOR_TLS_URL
# Another certificate of the same CA, for the right address: only its key is not trusted.
start_example_tls "$target_dir/debug" calculator browser "$pki/leaf2.pem" "$pki/leaf2.key" VOLLEY_CALCULATOR_UNTRUSTED_URL
# Chromium trusts the first server's certificate by the SHA-256 of its public key.
VOLLEY_TEST_SPKI="$(openssl x509 -pubkey -noout -in "$pki/leaf.pem" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
export VOLLEY_TEST_SPKI
echo "calculator over TLS: $VOLLEY_CALCULATOR_TLS_URL (trusted), $VOLLEY_CALCULATOR_UNTRUSTED_URL (not)"

step "tsc: the example SDKs and the test page to ES modules"
rm -rf build
./node_modules/.bin/tsc -p tsconfig.json

step "node --test (headless Chromium)"
node --test test/browser.test.mjs

step "node --test: the /docs playground (headless Chromium)"
node --test test/docs.test.mjs
echo "browser suite passed"
