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
#
# Servers started this way are stopped when the script exits.

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
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
wait_for() {
  local port=$1 pid=$2
  for _ in $(seq 1 300); do
    if python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:'"$port"'/healthz", timeout=1)' 2>/dev/null; then
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
