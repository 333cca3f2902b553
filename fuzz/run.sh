#!/usr/bin/env bash
# Builds volley's fuzz targets and runs each for SECONDS (default 10) with libFuzzer.
#
#   fuzz/run.sh [SECONDS]
#
# Installs cargo-fuzz (from crates.io) if it is missing. Uses the nightly toolchain when
# rustup has one, else the default toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs
# nightly-only flags; stable's standard library ships the sanitizer runtimes it links).
# Everything runs at `nice -n 19`.
#
# Each target starts from its checked-in seeds (fuzz/seeds/TARGET) in an empty temporary
# corpus, so every run takes about SECONDS per target and leaves nothing behind but logs
# and reproducers. FUZZ_KEEP_CORPUS=1 keeps the corpus in fuzz/corpus/TARGET (not in git)
# and starts from what earlier such runs kept: for long runs (loading a big corpus takes
# time before the SECONDS start).
# Logs go to fuzz/logs/TARGET.log, crash reproducers to fuzz/artifacts/TARGET/.
# FUZZ_TARGETS="a b" runs only those targets. Prints one line per target; exits non-zero
# if any target found a crash, a timeout or an out-of-memory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

secs="${1:-10}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: fuzz/run.sh [SECONDS]  (a positive whole number, default 10)" >&2
  exit 2
fi
targets=(${FUZZ_TARGETS:-decode_json decode_msgpack handshake connection})
nice=(nice -n 19)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  "${nice[@]}" cargo install cargo-fuzz --locked --quiet
fi

if cargo +nightly --version >/dev/null 2>&1; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
  echo "fuzz: no nightly toolchain; building with $(rustc --version) and RUSTC_BOOTSTRAP=1"
fi

mkdir -p logs
# Built once, up front, then the binaries are run directly: a run does not rebuild
# halfway through when the runtime's sources change under it.
echo "fuzz: building the targets (log: fuzz/logs/build.log)"
if ! "${nice[@]}" cargo "${toolchain[@]}" fuzz build >logs/build.log 2>&1; then
  tail -n 60 logs/build.log >&2
  echo "fuzz: the build failed" >&2
  exit 1
fi

bin_dir="target/$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')/release"
# What `cargo fuzz run` sets: the Rust standard library trips ASan's ODR check.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"

# Per-target libFuzzer options. The two network targets talk to a server on background
# threads, so allocations and frees never balance within one input: leak checking after
# each input would only report the server's live connections (and costs half the speed).
opts_for() {
  case "$1" in
    decode_json) echo "-dict=dicts/json.dict" ;;
    decode_msgpack) echo "" ;;
    handshake) echo "-dict=dicts/http.dict -detect_leaks=0" ;;
    connection) echo "-detect_leaks=0" ;;
    *) echo "fuzz: unknown target $1" >&2; return 1 ;;
  esac
}

tmp_corpora=()
cleanup() { for d in "${tmp_corpora[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

failed=0
for t in "${targets[@]}"; do
  opts=$(opts_for "$t")
  if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
    corpus="corpus/$t"
  else
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/volley-fuzz-$t.XXXXXX")
    tmp_corpora+=("$corpus")
  fi
  mkdir -p "$corpus" "artifacts/$t" "seeds/$t"
  log="logs/$t.log"
  start=$(date +%s)
  status=0
  # shellcheck disable=SC2086  # $opts is a list of flags
  "${nice[@]}" "$bin_dir/$t" "$corpus" "seeds/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 $opts \
    >"$log" 2>&1 || status=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  if [ "$status" = 0 ]; then
    verdict=ok
  else
    verdict="FAILED (exit $status)"
    failed=1
  fi
  printf 'fuzz: %-15s %-18s execs=%-9s cov=%-6s ft=%-6s corpus=%-6s %ss\n' \
    "$t" "$verdict" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$took"
  if [ "$status" != 0 ]; then
    grep -m 3 -E "panicked at|^ERROR: |^SUMMARY: |^==[0-9]+==ERROR" -A 2 "$log" | sed "s/^/fuzz: $t: /" || true
    echo "---- $log (last 60 lines) ----" >&2
    tail -n 60 "$log" >&2
    echo "---- reproducers in fuzz/artifacts/$t/ (replay one: fuzz/$bin_dir/$t FILE) ----" >&2
    ls -1 "artifacts/$t" >&2 || true
  fi
done
exit "$failed"
