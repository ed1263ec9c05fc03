#!/usr/bin/env bash
# scripts/bench.sh — runs the pipeline benchmarks (docs/BENCHMARKS.md) in release mode against the
# private Postgres and Redis: relay overhead, append latency vs history, replay throughput, idle RSS.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export LEPTOS_OUTPUT_NAME=pocket-dev   # read by leptos at compile time; must match cargo-leptos builds
cargo build --release -p server --bin pocket-dev
export PD_BIN="$ROOT/target/release/pocket-dev"
cargo bench -p server --bench pipeline
