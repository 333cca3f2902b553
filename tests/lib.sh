# Shared by the end-to-end suites' run.sh scripts: source it after `set -euo pipefail`.
#
#   step "what"                     prints a step heading
#   venv DIR                        makes DIR/.venv with DIR/requirements.txt installed
#                                   and sets $py to its python
#   build_examples NAME...          builds those example servers (debug) and sets
#                                   $target_dir to cargo's target directory
#   start_example DIR NAME TAG      starts the example server DIR/NAME on a free port,
#                                   waits for its /healthz, sets $port and exports
#                                   VOLLEY_<NAME>_URL; its log is /tmp/volley-TAG-NAME.log
#   make_test_pki                   makes a fresh test CA and certificates signed by it in
#                                   a new temporary folder, $pki (see below), and exports
#                                   VOLLEY_TEST_CA (the CA's PEM file)
#   start_example_tls DIR NAME TAG CERT KEY VAR
#                                   starts DIR/NAME serving TLS with CERT and KEY, waits
#                                   for its https /healthz (trusting VOLLEY_TEST_CA), sets
#                                   $port and exports VAR=wss://127.0.0.1:PORT/
#
# Servers started this way are stopped, and the test certificates removed, when the
# script exits.

pids=()
tmpdirs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for dir in "${tmpdirs[@]}"; do rm -rf "$dir"; done
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

venv() {
  local dir=$1
  step "virtualenv: $dir/.venv"
  [[ -x "$dir/.venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$dir/.venv"
  py="$dir/.venv/bin/python"
  "$py" -m pip install --quiet --disable-pip-version-check -r "$dir/requirements.txt"
}

build_examples() {
  local root packages=()
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  step "cargo build: $*"
  for name in "$@"; do packages+=(-p "$name"); done
  (cd "$root" && nice -n 10 cargo build --quiet "${packages[@]}")
  target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until http://127.0.0.1:$1/healthz answers, or the server's process is gone.
# With a third argument, a CA file, it asks https:// instead and trusts that CA (but
# does not check the host name: a test may serve a certificate for another name).
wait_for() {
  local port=$1 pid=$2 ca=${3:-}
  local probe='import urllib.request; urllib.request.urlopen("http://127.0.0.1:'"$port"'/healthz", timeout=1)'
  if [[ -n $ca ]]; then
    probe='import ssl, sys, urllib.request
c = ssl.create_default_context(cafile=sys.argv[1]); c.check_hostname = False
urllib.request.urlopen("https://127.0.0.1:'"$port"'/healthz", timeout=1, context=c)'
  fi
  for _ in $(seq 1 300); do
    if python3 -c "$probe" "$ca" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "server on port $port exited" >&2; return 1; }
    sleep 0.2
  done
  echo "server on port $port did not start" >&2
  return 1
}

start_example() {
  local dir=$1 name=$2 tag=$3 upper
  port="$(free_port)"
  "$dir/$name" --addr "127.0.0.1:$port" > "/tmp/volley-$tag-$name.log" 2>&1 &
  pids+=("$!")
  wait_for "$port" "$!"
  upper="$(echo "$name" | tr '[:lower:]' '[:upper:]')"
  export "VOLLEY_${upper}_URL=ws://127.0.0.1:$port/"
}

# A fresh certificate authority and three server certificates it signed, made for this
# run only (never checked in), in a new temporary folder $pki:
#   ca.pem                 the CA (exported as VOLLEY_TEST_CA)
#   leaf.pem, leaf.key     for IP 127.0.0.1 and DNS localhost
#   leaf2.pem, leaf2.key   the same, with another key (a browser told to trust only
#                          leaf's key refuses it)
#   other.pem, other.key   for DNS other.invalid only: a host name mismatch at 127.0.0.1
# rustls takes no CA certificate as a server's, hence CA:FALSE on the leaves.
make_test_pki() {
  local dir name
  dir="$(mktemp -d "${TMPDIR:-/tmp}/volley-test-pki.XXXXXX")"
  tmpdirs+=("$dir")
  pki=$dir
  step "test certificates: $dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=volley test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  for name in leaf leaf2 other; do
    local san="IP:127.0.0.1,DNS:localhost"
    [[ $name == other ]] && san="DNS:other.invalid"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
      -keyout "$dir/$name.key" -out "$dir/$name.csr"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=$san" > "$dir/$name.ext"
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
      -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem"
  done
  export VOLLEY_TEST_CA="$dir/ca.pem"
}

start_example_tls() {
  local dir=$1 name=$2 tag=$3 cert=$4 key=$5 var=$6
  port="$(free_port)"
  "$dir/$name" --addr "127.0.0.1:$port" --tls-cert "$cert" --tls-key "$key" > "/tmp/volley-$tag-$name-$var.log" 2>&1 &
  pids+=("$!")
  wait_for "$port" "$!" "$VOLLEY_TEST_CA"
  export "$var=wss://127.0.0.1:$port/"
}
