#!/usr/bin/env bash
# Fuzzes the parsers that read other programs' output (fuzz/: Anthropic SSE, OpenAI SSE, the
# Claude Code stream-json lines, the .jsonl session importer) with cargo-fuzz and libFuzzer.
#
#   scripts/fuzz.sh smoke [seconds]   every target for a few seconds (CI; default 15 s each)
#   scripts/fuzz.sh long [runs]       every target for N executions (default 10,000,000); prints the figures
#   scripts/fuzz.sh run TARGET [libFuzzer args...]
#
# cargo-fuzz needs nightly flags; the machine has one stable toolchain, so RUSTC_BOOTSTRAP=1 lets
# it pass them. The targets are safe Rust (no `unsafe`), so they run without a sanitizer: debug
# assertions with overflow checks (integer overflow panics), other panics and the targets' own
# invariants are what fail. `--release` alone would turn the assertions off (cargo-fuzz enables them
# only when not -O), hence `--release --debug-assertions`: optimized, and checked. New inputs go to
# a scratch corpus under fuzz/target/, so the committed seed corpus (fuzz/corpus/) stays small.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT/fuzz"
TARGETS=(anthropic_sse openai_sse stream_json session_jsonl)
# The same flags for `build` and `run`, or `run` builds again.
BUILD=(--sanitizer none --release --debug-assertions)
export RUSTC_BOOTSTRAP=1
# The app's flags (e.g. `--cfg erase_components`) would force a second full build of the targets.
unset RUSTFLAGS
export PATH="$HOME/.cargo/bin:$PATH"

ensure_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "[fuzz] installing cargo-fuzz 0.13.2 (once per machine)"
    cargo install cargo-fuzz --version 0.13.2 --locked
  fi
}

run() { # target, libFuzzer args...
  local target="$1"; shift
  local scratch="$ROOT/fuzz/target/corpus/$target"
  mkdir -p "$scratch"
  cargo fuzz run "${BUILD[@]}" "$target" "$scratch" "$ROOT/fuzz/corpus/$target" -- "$@"
}

fuzz_logged() { # target, libFuzzer args...: runs, keeps the log, prints the final figures
  local target="$1"; shift
  local log="$ROOT/fuzz/target/$target.log"
  mkdir -p "$ROOT/fuzz/target"
  if ! run "$target" "$@" -print_final_stats=1 >"$log" 2>&1; then
    grep -E "panicked|SUMMARY|Test unit written|ERROR" "$log" | head -20
    echo "[fuzz] $target FAILED: log $log, input in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" "$log"
}

ensure_cargo_fuzz
case "${1:-smoke}" in
  smoke)
    seconds="${2:-15}"
    cargo fuzz build "${BUILD[@]}"
    for target in "${TARGETS[@]}"; do
      echo "[fuzz] $target: ${seconds} s"
      fuzz_logged "$target" -max_total_time="$seconds"
    done
    echo "[fuzz] smoke: all targets passed"
    ;;
  long)
    runs="${2:-10000000}"
    cargo fuzz build "${BUILD[@]}"
    for target in "${TARGETS[@]}"; do
      echo "[fuzz] $target: $runs executions"
      start=$(date +%s)
      fuzz_logged "$target" -runs="$runs"
      echo "[fuzz] $target: $(( $(date +%s) - start )) s"
    done
    ;;
  run)
    shift
    run "$@"
    ;;
  *) echo "usage: scripts/fuzz.sh smoke [seconds] | long [runs] | run TARGET [args]" >&2; exit 2 ;;
esac
