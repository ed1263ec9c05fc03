#!/usr/bin/env bash
# scripts/schemathesis.sh — fuzzes the running API against its own OpenAPI description
# (`/api/openapi.json`, i.e. server/src/openapi.json) with Schemathesis, and fails on any 500 or on an
# answer the description does not document.
#
# Owns: a mock LLM on 127.0.0.1:3921 and `pocket-dev serve` (with its worker) on 127.0.0.1:3920, on a fresh
# database pocketdev_schemathesis, Redis db 2, .data/schemathesis-workspace and .data/schemathesis-claude-home,
# auth off (CSRF on: Schemathesis sends no Origin, as any non-browser client); both stopped on exit.
# Schemathesis (pinned below) is installed from PyPI into .data/schemathesis-venv when missing.
#
# Checks: not_a_server_error (no 5xx), status_code_conformance (the status is documented),
# content_type_conformance and response_schema_conformance (the body matches the documented schema).
# Phases: examples, coverage (boundary and invalid values of every parameter and body field), fuzzing, and
# stateful (sequences that follow the spec's links: create a conversation, then call its operations with its
# real id); both positive and negative data. Excluded: GET /api/conversations/live, an SSE stream that never ends by
# design (tests/api/openapi.rs checks its answer).
#
# Usage: scripts/schemathesis.sh   (after `scripts/build.sh`, or with PD_BIN=path/to/pocket-dev)
# Environment: PD_BIN (default target/debug/pocket-dev), PD_ST_MAX_EXAMPLES (default 30 per operation),
#   PD_ST_MAX_TIME (default 90 s for the whole run), PD_ST_SEED (default 1), PD_ST_CHECKS (the checks above,
#   comma-separated; `all` for every Schemathesis check); the private services
#   (scripts/services.sh) must be up, on PD_PG_PORT (55432) and PD_REDIS_PORT (56379) as in ./test.
# Logs: .data/schemathesis-server.log, .data/schemathesis-mock.log; report: .data/schemathesis-report/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCHEMATHESIS_VERSION=4.32.5
BIN="${PD_BIN:-$ROOT/target/debug/pocket-dev}"
SITE_ADDR=127.0.0.1:3920 MOCK_ADDR=127.0.0.1:3921
APP_URL="http://$SITE_ADDR" MOCK_URL="http://$MOCK_ADDR"
DB=pocketdev_schemathesis
DATA="$ROOT/.data"
VENV="$DATA/schemathesis-venv"
WS="$DATA/schemathesis-workspace" CLAUDE_HOME_DIR="$DATA/schemathesis-claude-home"
SERVER_LOG="$DATA/schemathesis-server.log" MOCK_LOG="$DATA/schemathesis-mock.log"
REPORT="$DATA/schemathesis-report"

say() { printf '[schemathesis] %s\n' "$*"; }
die() { printf '[schemathesis] ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN not found: run scripts/build.sh (or set PD_BIN)"
mkdir -p "$DATA"

# ---------------------------------------------------------------- Schemathesis from PyPI
if [ "$("$VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# ---------------------------------------------------------------- the server under test
MOCK_PID="" SERVER_PID=""
stop_pid() {
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() { stop_pid "$SERVER_PID"; stop_pid "$MOCK_PID"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() { # URL TIMEOUT_S PID
  local i=0
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null)" = 200 ]; do
    kill -0 "$3" 2>/dev/null || return 1
    i=$((i + 1)); [ "$i" -ge "$(($2 * 4))" ] && return 1
    sleep 0.25
  done
}

for u in "$APP_URL" "$MOCK_URL"; do
  if curl -s -o /dev/null --max-time 1 "$u/health"; then die "something already answers on $u; stop it first"; fi
done
pg_port="${PD_PG_PORT:-55432}" redis_port="${PD_REDIS_PORT:-56379}"
PGOPTIONS="--client-min-messages=warning" scripts/services.sh psql -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER pocketdev"
redis-cli -h 127.0.0.1 -p "$redis_port" -n 2 flushdb >/dev/null
rm -rf "$WS" "$CLAUDE_HOME_DIR" "$REPORT"; mkdir -p "$WS" "$CLAUDE_HOME_DIR"

MOCK_LLM_ADDR="$MOCK_ADDR" "$BIN" mock-llm --tokens-per-sec 2000 --tokens 20 >"$MOCK_LOG" 2>&1 &
MOCK_PID=$!
wait_http "$MOCK_URL/health" 30 "$MOCK_PID" || { tail -n 20 "$MOCK_LOG" >&2; die "the mock LLM did not start; see $MOCK_LOG"; }

(
  export DATABASE_URL="postgres://pocketdev:pocketdev@127.0.0.1:$pg_port/$DB" REDIS_URL="redis://127.0.0.1:$redis_port/2"
  export ANTHROPIC_BASE_URL="$MOCK_URL" ANTHROPIC_API_KEY="sk-ant-schemathesis" WORKSPACE_ROOT="$WS"
  export OPENAI_BASE_URL="$MOCK_URL/v1" OPENAI_API_KEY="sk-schemathesis"
  export PD_SECRET_KEY_FILE="$DATA/schemathesis-secret.key" CLAUDE_HOME="$CLAUDE_HOME_DIR"
  rm -f "$PD_SECRET_KEY_FILE"
  unset BASIC_AUTH_USER BASIC_AUTH_PASS IP_WHITELIST
  export LEPTOS_OUTPUT_NAME=pocket-dev LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="$SITE_ADDR"
  export RUST_LOG="${RUST_LOG:-warn}"
  "$BIN" migrate >"$SERVER_LOG" 2>&1 || { tail -n 20 "$SERVER_LOG" >&2; exit 1; }
  exec "$BIN" serve >>"$SERVER_LOG" 2>&1
) &
SERVER_PID=$!
wait_http "$APP_URL/health" 60 "$SERVER_PID" || { tail -n 40 "$SERVER_LOG" >&2; die "the server did not start; see $SERVER_LOG"; }
say "pocket-dev on $APP_URL (log $SERVER_LOG), mock LLM on $MOCK_URL"

# ---------------------------------------------------------------- the run
t0=$SECONDS
rc=0
# One worker: with two, Hypothesis' lambda-source cache races in the coverage phase (a tool error, not the API's).
"$VENV/bin/st" run "$APP_URL/api/openapi.json" --url "$APP_URL" \
  --checks "${PD_ST_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}" \
  --phases examples,coverage,fuzzing,stateful --mode all \
  --max-examples "${PD_ST_MAX_EXAMPLES:-30}" --seed "${PD_ST_SEED:-1}" --max-time "${PD_ST_MAX_TIME:-90}" \
  --exclude-path /api/conversations/live \
  --request-timeout 5 --workers 1 --generation-database none --suppress-health-check all \
  --report junit --report-dir "$REPORT" --no-color || rc=$?
say "finished in $((SECONDS - t0)) s (exit $rc); report $REPORT"
if grep -q 'request failed\|panicked' "$SERVER_LOG"; then
  say "server log lines about 500s or panics:"; grep -m 20 'request failed\|panicked' "$SERVER_LOG" >&2 || true
fi
[ "$rc" = 0 ] || die "Schemathesis found failures (above); the server log is $SERVER_LOG"
