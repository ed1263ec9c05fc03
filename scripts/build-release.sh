#!/usr/bin/env bash
# scripts/build-release.sh — the release build of PocketDev, as the Dockerfile's build stage runs it.
#
# Owns the release build: scripts/setup.sh (the tools: wasm-bindgen-cli, wasm-opt, lightningcss, terser),
# then `scripts/build.sh --release`. Output: target/release/pocket-dev and target/site/ (pkg/pocket-dev.{js,wasm,css}).
#
# Usage: scripts/build-release.sh              setup + release build + output check
#        scripts/build-release.sh --preflight  setup + check that every tool the build calls resolves
#                                              (what CI runs by default: scripts/check-deploy.sh)
#
# Environment:
#   PD_SKIP_APT=1        passed to scripts/setup.sh (the Docker build stage sets it: no services there)
#   PD_SKIP_SETUP=1      skip scripts/setup.sh (tools already installed)
#   PD_RELEASE_OUT=DIR   also copy the output to DIR/pocket-dev and DIR/site/ (the Dockerfile uses /out:
#                        its target/ is a build cache that doesn't outlive the RUN step)
#
# Who runs it: the Dockerfile (`RUN scripts/build-release.sh`); scripts/check-deploy.sh runs the
# --preflight, and the full build when PD_CHECK_RELEASE_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[build-release] %s\n' "$*"; }
die() { printf '[build-release] ERROR: %s\n' "$*" >&2; exit 1; }

MODE=build
case "${1:-}" in
  "") ;;
  --preflight) MODE=preflight ;;
  -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "usage: scripts/build-release.sh [--preflight]" ;;
esac

if [ "${PD_SKIP_SETUP:-}" = 1 ]; then
  say "PD_SKIP_SETUP=1: not running scripts/setup.sh"
else
  scripts/setup.sh
fi

# The PATH of scripts/build.sh: the npm tools first.
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Every external tool `scripts/build.sh --release` calls must resolve from PATH.
preflight() {
  local tool version cmd
  for tool in cargo wasm-bindgen wasm-opt lightningcss terser; do
    read -ra cmd <<<"$tool"
    version="$("${cmd[@]}" --version 2>/dev/null | head -n1)" || die "'$tool --version' failed: run scripts/setup.sh"
    [ -n "$version" ] || die "'$tool --version' printed nothing"
    say "tool: $tool -> $version"
  done
  case "$(command -v wasm-opt)" in
    "$ROOT/tools/node_modules/.bin/"*) ;;
    *) die "wasm-opt resolves to $(command -v wasm-opt), not tools/node_modules/.bin (Debian's binaryen breaks the wasm)" ;;
  esac
  rustup target list --installed | grep -qx wasm32-unknown-unknown || die "rustup target wasm32-unknown-unknown missing"
  say "tool: rustup target wasm32-unknown-unknown installed"
}
preflight

if [ "$MODE" = preflight ]; then
  say "preflight ok: would run 'scripts/build.sh --release'"
  exit 0
fi

scripts/build.sh --release

BIN="$ROOT/target/release/pocket-dev"
[ -x "$BIN" ] || die "$BIN not found after the build"
for f in pocket-dev.js pocket-dev.wasm pocket-dev.css; do
  [ -s "$ROOT/target/site/pkg/$f" ] || die "target/site/pkg/$f missing or empty after the build"
done
say "output: $BIN ($(du -h "$BIN" | cut -f1)), target/site/pkg/pocket-dev.wasm ($(du -h "$ROOT/target/site/pkg/pocket-dev.wasm" | cut -f1))"

if [ -n "${PD_RELEASE_OUT:-}" ]; then
  mkdir -p "$PD_RELEASE_OUT"
  rm -rf "${PD_RELEASE_OUT:?}/site"
  cp "$BIN" "$PD_RELEASE_OUT/pocket-dev"
  cp -r "$ROOT/target/site" "$PD_RELEASE_OUT/site"
  say "copied to $PD_RELEASE_OUT/pocket-dev and $PD_RELEASE_OUT/site/"
fi
