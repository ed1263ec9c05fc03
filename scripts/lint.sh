#!/usr/bin/env bash
# scripts/lint.sh — the form gate: rustfmt and clippy (warnings denied) over every crate, the way `./test` runs them.
#
#   scripts/lint.sh          fmt --check (the workspace and fuzz/), then clippy for
#                            domain, providers, mockllm, backend, server (all targets), app under `ssr` (all targets),
#                            and app + frontend under `hydrate` for wasm32 — never `--workspace`, which would
#                            unify app/ssr with app/hydrate.
#   scripts/lint.sh fmt      only the format check
#
# RUSTFLAGS="--cfg erase_components" as `./test unit` and scripts/build.sh use, so the host crates'
# dependencies are shared with those builds rather than rebuilt.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH" LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-pocket-dev}"

echo "[lint] cargo fmt --check (workspace, fuzz/)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --all --check
[ "${1:-}" = fmt ] && exit 0

flags="--cfg erase_components"
echo "[lint] clippy: domain providers mockllm backend server (all targets)"
RUSTFLAGS="$flags" cargo clippy -q -p domain -p providers -p mockllm -p backend -p server --all-targets -- -D warnings
echo "[lint] clippy: app --features ssr (all targets)"
RUSTFLAGS="$flags" cargo clippy -q -p app --features ssr --all-targets -- -D warnings
echo "[lint] clippy: app + frontend --features hydrate (wasm32)"
RUSTFLAGS="$flags" cargo clippy -q -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings
echo "[lint] ok"
