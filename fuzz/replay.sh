#!/usr/bin/env bash
# Replays every checked-in seed (fuzz/seeds/TARGET) and any crash reproducer
# (fuzz/artifacts/TARGET) through each fuzz target once, without fuzzing:
#
#   fuzz/replay.sh
#
# The test command runs this rather than a few seconds of fuzzing: it proves the targets
# still build against the runtime and that no input that ever mattered (the seeds, and
# a finding once its reproducer is kept) fails again, in a minute instead of the ten a
# cold instrumented build takes. Fuzzing itself is fuzz/run.sh (FUZZING.md).
#
# The targets are built with the default toolchain, unoptimised and without coverage
# instrumentation, into the main workspace's target directory, so the runtime and its
# dependencies compiled by `cargo test` are reused. libFuzzer runs each input once
# (`-runs=0`). Exits non-zero if any input panics, crashes or times out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

targets=(${FUZZ_TARGETS:-decode_json decode_msgpack handshake connection})
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}"
mkdir -p logs
echo "fuzz replay: building the targets (log: fuzz/logs/replay-build.log)"
if ! cargo build --quiet --bins >logs/replay-build.log 2>&1; then
  tail -n 60 logs/replay-build.log >&2
  echo "fuzz replay: the build failed" >&2
  exit 1
fi

failed=0
for t in "${targets[@]}"; do
  inputs=("seeds/$t")
  if [ -n "$(ls -A "artifacts/$t" 2>/dev/null)" ]; then
    inputs+=("artifacts/$t")
  fi
  count=$(find "${inputs[@]}" -type f | wc -l)
  log="logs/$t.replay.log"
  status=0
  "$CARGO_TARGET_DIR/debug/$t" -runs=0 -timeout=30 -rss_limit_mb=2048 "${inputs[@]}" >"$log" 2>&1 || status=$?
  if [ "$status" = 0 ]; then
    printf 'fuzz replay: %-15s ok      %s inputs\n' "$t" "$count"
  else
    failed=1
    printf 'fuzz replay: %-15s FAILED  (exit %s)\n' "$t" "$status"
    tail -n 40 "$log" >&2
  fi
done
exit "$failed"
