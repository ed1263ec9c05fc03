#!/usr/bin/env bash
# scripts/screenshots.sh — regenerates the screenshots in docs/screenshots/ (see docs/screenshots/README.md).
#
# Seeds a demo conversation (markdown with code, thinking, tool calls, a file in a workspace) through the API and
# saves PNGs of the chat, the phone's drawer, search results, the timeline, the config editor, the settings page
# and the file preview, at 1280×800 (desktop) and 390×844 (phone), with Playwright in Debian's Chromium
# (end2end/screenshots.spec.ts, run with end2end/screenshots.config.ts; never part of `./test e2e`).
#
# Usage:
#   scripts/screenshots.sh
#       starts its own PocketDev like `./test e2e` does, minus nginx: the mock LLM on 127.0.0.1:3902 and
#       `pocket-dev serve` on 127.0.0.1:3020 with a fresh database `pocketdev_screenshots`, Redis db 2, and its own
#       .data/screenshots-workspace and .data/screenshots-claude-home; takes the pictures and stops what it started.
#       Needs a built target/debug/pocket-dev + target/site (`./test` or `scripts/build.sh` makes them;
#       PD_SCREENSHOTS_BUILD=1 runs `scripts/build.sh` first). PostgreSQL and Redis come from scripts/services.sh.
#   BASE_URL=http://127.0.0.1:3011 PD_E2E_USER=… PD_E2E_PASS=… CLAUDE_HOME=… scripts/screenshots.sh
#       uses a running server instead (CLAUDE_HOME: the server's, where the demo session file is written for
#       the import; optional when the server is `./test e2e`'s, whose layout the helpers know).
#   Extra arguments go to `npx playwright test` (e.g. --project=phone).
#
# Env: PD_BIN (default target/debug/pocket-dev), PD_SCREENSHOTS_DIR (default docs/screenshots),
#      PD_SCREENSHOTS_PORT (default 3020), PD_SCREENSHOTS_MOCK_PORT (default 3902).
# Logs of the processes it starts: .data/screenshots-server.log, .data/screenshots-mock.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[screenshots] %s\n' "$*"; }
die() { printf '[screenshots] ERROR: %s\n' "$*" >&2; exit 1; }

export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export PD_SCREENSHOTS_DIR="${PD_SCREENSHOTS_DIR:-$ROOT/docs/screenshots}"
mkdir -p "$PD_SCREENSHOTS_DIR"

run_playwright() {
  (cd end2end && npx playwright test -c screenshots.config.ts "$@")
  say "saved in $PD_SCREENSHOTS_DIR: $(find "$PD_SCREENSHOTS_DIR" -maxdepth 1 -name '*.png' -printf '%f ' | sort)"
}

if [ -n "${BASE_URL:-}" ]; then
  say "using the running server at $BASE_URL"
  run_playwright "$@"
  exit 0
fi

# wait_http URL TIMEOUT_S [PID]: until URL answers 200; fails early if PID dies
wait_http() {
  local url="$1" timeout="$2" pid="${3:-}" i=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    i=$((i + 1)); [ "$i" -ge "$((timeout * 4))" ] && return 1
    sleep 0.25
  done
}

MOCK_PID="" SERVER_PID=""
stop_pid() {
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$SERVER_PID"
  stop_pid "$MOCK_PID"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BIN="${PD_BIN:-$ROOT/target/debug/pocket-dev}"
export LEPTOS_OUTPUT_NAME=pocket-dev
if [ "${PD_SCREENSHOTS_BUILD:-}" = 1 ]; then scripts/build.sh; fi
[ -x "$BIN" ] || die "$BIN not found: build first (./test, or scripts/build.sh, or PD_SCREENSHOTS_BUILD=1)"
[ -d "$ROOT/target/site/pkg" ] || die "target/site/pkg not found: build first (scripts/build.sh)"

scripts/services.sh start >/dev/null
eval "$(scripts/services.sh env)"

port="${PD_SCREENSHOTS_PORT:-3020}" mock_port="${PD_SCREENSHOTS_MOCK_PORT:-3902}"
site_addr="127.0.0.1:$port" mock_addr="127.0.0.1:$mock_port"
app_url="http://$site_addr" mock_url="http://$mock_addr"
for u in "$app_url" "$mock_url"; do
  if curl -s -o /dev/null --max-time 1 "$u/health"; then die "something already answers on $u; stop it or pick another port"; fi
done

db=pocketdev_screenshots ws="$ROOT/.data/screenshots-workspace" home="$ROOT/.data/screenshots-claude-home"
pg_port="${PD_PG_PORT:-55432}" redis_port="${PD_REDIS_PORT:-56379}"
PGOPTIONS="--client-min-messages=warning" scripts/services.sh psql -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db OWNER pocketdev"
redis-cli -h 127.0.0.1 -p "$redis_port" -n 2 flushdb >/dev/null
rm -rf "$ws" "$home"; mkdir -p "$ws" "$home"

MOCK_LOG="$ROOT/.data/screenshots-mock.log" SERVER_LOG="$ROOT/.data/screenshots-server.log"
say "mock LLM on $mock_addr (log $MOCK_LOG)"
MOCK_LLM_ADDR="$mock_addr" "$BIN" mock-llm --tokens-per-sec 200 --tokens 60 >"$MOCK_LOG" 2>&1 &
MOCK_PID=$!
wait_http "$mock_url/health" 30 "$MOCK_PID" || { tail -n 30 "$MOCK_LOG" >&2; die "the mock LLM did not start; see $MOCK_LOG"; }

(
  export DATABASE_URL="postgres://pocketdev:pocketdev@127.0.0.1:$pg_port/$db"
  export REDIS_URL="redis://127.0.0.1:$redis_port/2"
  export ANTHROPIC_BASE_URL="$mock_url" ANTHROPIC_API_KEY="sk-ant-screenshots-mock" WORKSPACE_ROOT="$ws"
  export OPENAI_BASE_URL="$mock_url/v1" OPENAI_API_KEY="sk-screenshots-mock"
  export OPENAI_COMPATIBLE_BASE_URL="$mock_url" OPENAI_COMPATIBLE_API_KEY="sk-screenshots-mock" OPENAI_COMPATIBLE_MODEL=local-demo
  export PD_SECRET_KEY_FILE="$ROOT/.data/screenshots-secret.key" CLAUDE_HOME="$home"
  export LEPTOS_OUTPUT_NAME=pocket-dev LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR="$site_addr" LEPTOS_RELOAD_PORT=3003
  export RUST_LOG="${RUST_LOG:-warn}"
  "$BIN" migrate >"$SERVER_LOG" 2>&1 || { tail -n 40 "$SERVER_LOG" >&2; exit 1; }
  exec "$BIN" serve >>"$SERVER_LOG" 2>&1
) &
SERVER_PID=$!
say "pocket-dev serve on $site_addr (log $SERVER_LOG)"
wait_http "$app_url/health" 60 "$SERVER_PID" || { tail -n 40 "$SERVER_LOG" >&2; die "the server did not start; see $SERVER_LOG"; }

BASE_URL="$app_url" MOCK_URL="$mock_url" WORKSPACE_ROOT="$ws" CLAUDE_HOME="$home" run_playwright "$@"
