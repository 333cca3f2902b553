#!/usr/bin/env bash
# The hostile-client suite: attacks on the example servers' documented defenses (byte
# budgets, credit cap, metadata bounds, call limits, handshake timeout, connection cap,
# subscriptions, the WebSocket hard cap, upgrade checks), each checking the server's
# answer, that its RSS stays bounded, and that a well-behaved client is served
# throughout. README.md lists the attacks and their bounds.
#
#   1. creates a virtualenv in tests/hostile/.venv and installs requirements.txt,
#   2. builds the example servers (calculator, streams),
#   3. raises the open-file limit (the attacks open ~2,300 sockets at once), starts
#      calculator and streams on free ports (tests/lib.sh exports VOLLEY_<NAME>_URL;
#      this script exports VOLLEY_<NAME>_PID for the RSS checks), and a third server, a
#      calculator under `ulimit -n 256` (connection cap 192), as VOLLEY_CAPPED_URL/PID,
#   4. runs the attacks with pytest.
#
# Exits non-zero on any failure. Servers it starts are stopped on exit. Takes about a
# minute and a half once the servers are built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

# shellcheck source=../lib.sh
source "$here/../lib.sh"

started=$SECONDS

venv "$here"
examples=(calculator streams)
build_examples "${examples[@]}"
bin="$target_dir/debug"

# 2,300 sockets at once on the client side, and as many on the server's (its cap is
# the open-file limit less 64): raise the soft limit as far as the hard one allows.
want=16384
hard="$(ulimit -Hn)"
if [[ "$hard" != unlimited ]] && (( hard < want )); then want=$hard; fi
soft="$(ulimit -Sn)"
if [[ "$soft" != unlimited ]] && (( soft < want )); then ulimit -Sn "$want"; fi
step "open-file limit: $(ulimit -Sn)"

for name in "${examples[@]}"; do
  step "start: $name"
  start_example "$bin" "$name" hostile
  upper="$(echo "$name" | tr '[:lower:]' '[:upper:]')"
  export "VOLLEY_${upper}_PID=${pids[-1]}"
done

step "start: calculator under ulimit -n 256 (connection cap 192)"
port="$(free_port)"
# `exec` keeps the subshell's PID for the server, so $! is the server's PID.
( ulimit -n 256 && exec "$bin/calculator" --addr "127.0.0.1:$port" ) > /tmp/volley-hostile-capped.log 2>&1 &
pids+=("$!")
wait_for "$port" "$!"
export VOLLEY_CAPPED_URL="ws://127.0.0.1:$port/"
export VOLLEY_CAPPED_PID="${pids[-1]}"

step "pytest"
status=0
"$py" -m pytest -q "$@" || status=$?
step "hostile suite: $((SECONDS - started)) s"
exit "$status"
