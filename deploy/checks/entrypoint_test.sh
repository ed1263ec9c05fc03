#!/usr/bin/env bash
# deploy/checks/entrypoint_test.sh — runs the image's entrypoint and healthcheck for real, outside Docker.
#
# Run by scripts/check-deploy.sh with the private services up (scripts/services.sh start). Uses the debug
# binary (PD_BIN, default target/debug/pocket-dev) as `pocket-dev` on PATH — how the image finds it —, a
# fresh database `pocketdev_deploy`, Redis db 2, 127.0.0.1:3020 and .data/deploy-check/ (workspace, home,
# state, logs). Every step prints what it verified; the first failure exits 1 with the log's tail.
#
#   1. `entrypoint.sh serve --no-worker` migrates the empty database (all of migrations/), then serves:
#      /health 200, SSR page and site files served (PD_SITE_ROOT, default target/site), the page hydrates in
#      Chromium (end2end/checks/hydrates.mjs), role file written, PID kept by exec (pocket-dev itself),
#      healthcheck.sh passes (explicit and role-file modes) with IP_WHITELIST set as in compose.yml (only
#      X-Forwarded-For from TRUSTED_PROXIES counts); SIGTERM stops it cleanly (exit 0).
#   2. `entrypoint.sh worker` migrates again (idempotent), runs the worker; healthcheck.sh worker passes,
#      and fails with Postgres or Redis unreachable; SIGTERM stops it (exit 0); afterwards it fails.
#   3. Refusals: an unreachable database (migration fails: the entrypoint exits non-zero, nothing serves),
#      a WORKSPACE_ROOT that is not a directory; a non-pocket-dev command is exec'd as is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

BIN="${PD_BIN:-$ROOT/target/debug/pocket-dev}"
SITE="${PD_SITE_ROOT:-$ROOT/target/site}"
WORK="$ROOT/.data/deploy-check"
ADDR=127.0.0.1:3020
DB=pocketdev_deploy
PG_PORT="${PD_PG_PORT:-55432}"
REDIS_PORT="${PD_REDIS_PORT:-56379}"
ENTRY="$ROOT/deploy/app/entrypoint.sh"
HEALTH="$ROOT/deploy/app/healthcheck.sh"

ok()  { printf '  ok    %s\n' "$*"; }
LOG=""
fail() {
  printf '  FAIL  %s\n' "$*" >&2
  if [ -n "$LOG" ] && [ -f "$LOG" ]; then printf '  ---- last lines of %s\n' "$LOG" >&2; tail -n 30 "$LOG" >&2; fi
  exit 1
}

PID="" STOP_RC=""
stop() { # pid: SIGTERM, wait up to 15 s; sets STOP_RC to the exit status (or "timeout")
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; STOP_RC=timeout; return
  fi
  STOP_RC=0; wait "$pid" || STOP_RC=$?
}
cleanup() { if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then stop "$PID"; fi; }
trap cleanup EXIT

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" 2>/dev/null || true; }

[ -x "$BIN" ] || fail "$BIN not found: build it first (scripts/build.sh, or ./test deploy)"
[ -d "$SITE/pkg" ] || fail "$SITE/pkg not found: build it first (scripts/build.sh)"
[ "$(http_code "http://$ADDR/health")" = 000 ] || fail "something already answers on $ADDR; stop it first"

# ---------------------------------------------------------------- a fresh, container-like environment
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/workspace" "$WORK/home" "$WORK/state"
ln -s "$BIN" "$WORK/bin/pocket-dev"
PGOPTIONS="--client-min-messages=warning" scripts/services.sh psql -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB OWNER pocketdev" >/dev/null
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n 2 flushdb >/dev/null
ok "fresh database $DB, Redis db 2, $WORK"

export PATH="$WORK/bin:$PATH"
export DATABASE_URL="postgres://pocketdev:pocketdev@127.0.0.1:$PG_PORT/$DB"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/2"
export LEPTOS_SITE_ADDR="$ADDR" LEPTOS_OUTPUT_NAME=pocket-dev LEPTOS_SITE_ROOT="$SITE" \
  LEPTOS_SITE_PKG_DIR=pkg LEPTOS_ENV=PROD
export WORKSPACE_ROOT="$WORK/workspace" HOME="$WORK/home" PD_STATE_DIR="$WORK/state" RUST_LOG=info
export BASIC_AUTH_USER=deploy-check BASIC_AUTH_PASS="deploy-check-$$-$RANDOM"
# As in compose.yml: an IP whitelist, and X-Forwarded-For trusted from the proxy only (here: loopback).
export IP_WHITELIST=203.0.113.7 TRUSTED_PROXIES=127.0.0.1
unset CLAUDE_HOME ANTHROPIC_API_KEY ANTHROPIC_BASE_URL OPENAI_API_KEY OPENAI_BASE_URL POCKET_DEV_SECRET_KEY
if [ -x "$ROOT/tools/node_modules/.bin/claude" ]; then export CLAUDE_BIN="$ROOT/tools/node_modules/.bin/claude"; fi
# what the proxy adds to every request (deploy/proxy/nginx.conf.template) for a whitelisted client
AUTH=(-u "$BASIC_AUTH_USER:$BASIC_AUTH_PASS" -H "X-Forwarded-For: 203.0.113.7" -H "X-Real-IP: 203.0.113.7")

# ---------------------------------------------------------------- 1. serve
echo "- entrypoint.sh serve --no-worker"
LOG="$WORK/serve.log"
"$ENTRY" serve --no-worker >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 240); do
  [ "$(http_code "http://$ADDR/health")" = 200 ] && break
  kill -0 "$PID" 2>/dev/null || fail "entrypoint.sh serve exited before /health answered"
  sleep 0.25
done
[ "$(http_code "http://$ADDR/health")" = 200 ] || fail "GET http://$ADDR/health did not answer 200 within 60 s"
ok "GET /health answers 200: $(curl -s --max-time 3 "http://$ADDR/health")"

if ! grep -q '\[entrypoint\] pocket-dev migrate' "$LOG" || ! grep -q 'migrations applied' "$LOG"; then
  fail "the entrypoint did not run pocket-dev migrate before serving"
fi
files=$(find migrations -maxdepth 1 -name '*.sql' | wc -l)
applied=$(scripts/services.sh psql -d "$DB" -tAc "select count(*) from _sqlx_migrations where success")
[ "$applied" = "$files" ] || fail "$applied migrations recorded in $DB, $files in migrations/"
ok "the entrypoint migrated the empty database first: $applied/$files migrations applied"

exe="$(readlink "/proc/$PID/exe" || true)"
[ "$exe" = "$(readlink -f "$BIN")" ] || fail "PID $PID is '$exe', not pocket-dev: the entrypoint must exec"
ok "PID $PID is pocket-dev itself (exec): SIGTERM reaches it directly"
[ "$(cat "$WORK/state/role")" = "$PID serve" ] || fail "role file: '$(cat "$WORK/state/role")', want '$PID serve'"
ok "role file records '$PID serve'"

"$HEALTH" serve || fail "healthcheck.sh serve failed against a healthy server"
"$HEALTH" || fail "healthcheck.sh (mode from the role file) failed against a healthy server"
ok "healthcheck.sh serve and healthcheck.sh (role file) pass"

page="$(curl -s --max-time 5 "${AUTH[@]}" "http://$ADDR/")"
case "$page" in *"<html"*) ;; *) fail "GET / did not return an HTML page" ;; esac
for f in pocket-dev.css pocket-dev.js pocket-dev.wasm; do
  [ "$(http_code "${AUTH[@]}" "http://$ADDR/pkg/$f")" = 200 ] || fail "GET /pkg/$f did not answer 200 (LEPTOS_SITE_ROOT)"
done
ok "GET / renders HTML; /pkg/pocket-dev.{css,js,wasm} are served from LEPTOS_SITE_ROOT"
if [ -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
  (cd "$ROOT/end2end" && node checks/hydrates.mjs "http://$ADDR/" "$BASIC_AUTH_USER:$BASIC_AUTH_PASS" 203.0.113.7) \
    || fail "the page served by $BIN with the site $SITE did not hydrate in Chromium"
  ok "the page hydrates in Chromium (binary and site from one build): the app adds the fields of a provider chosen"
else
  fail "end2end/node_modules lacks @playwright/test (scripts/setup.sh installs it): cannot check hydration"
fi
code="$(http_code -u "$BASIC_AUTH_USER:$BASIC_AUTH_PASS" "http://$ADDR/")"
[ "$code" = 403 ] || fail "GET / from a client outside IP_WHITELIST answered $code, not 403"
ok "behind the proxy: whitelisted client (X-Forwarded-For from TRUSTED_PROXIES) passes, others get 403; /health stays open"

stop "$PID"; PID=""
[ "$STOP_RC" = 0 ] || fail "serve did not stop cleanly on SIGTERM (status $STOP_RC)"
ok "SIGTERM: serve stopped with status 0"
if "$HEALTH" serve 2>/dev/null; then fail "healthcheck.sh serve passed with the server stopped"; fi
ok "healthcheck.sh serve fails once the server is gone"

# ---------------------------------------------------------------- 2. worker
echo "- entrypoint.sh worker"
LOG="$WORK/worker.log"
"$ENTRY" worker >"$LOG" 2>&1 &
PID=$!
healthy=0
for _ in $(seq 1 120); do
  kill -0 "$PID" 2>/dev/null || fail "entrypoint.sh worker exited"
  if grep -q 'worker started' "$LOG" && "$HEALTH" worker 2>/dev/null; then healthy=1; break; fi
  sleep 0.25
done
[ "$healthy" = 1 ] || fail "the worker did not start, or healthcheck.sh worker kept failing, within 30 s"
grep -q 'migrations applied' "$LOG" || fail "the entrypoint did not migrate before the worker"
ok "migrate (again: idempotent) then 'worker started'; healthcheck.sh worker passes"
[ "$(cat "$WORK/state/role")" = "$PID worker" ] || fail "role file: '$(cat "$WORK/state/role")', want '$PID worker'"
"$HEALTH" || fail "healthcheck.sh (mode from the role file: worker) failed"
ok "role file records '$PID worker'; healthcheck.sh without a mode checks the worker"
if REDIS_URL="redis://127.0.0.1:1/" "$HEALTH" worker 2>/dev/null; then fail "healthcheck.sh worker passed with Redis unreachable"; fi
if DATABASE_URL="postgres://u:p@127.0.0.1:1/db" "$HEALTH" worker 2>/dev/null; then fail "healthcheck.sh worker passed with Postgres unreachable"; fi
ok "healthcheck.sh worker fails when Redis or Postgres is unreachable"
stop "$PID"; PID=""
[ "$STOP_RC" = 0 ] || fail "the worker did not stop cleanly on SIGTERM (status $STOP_RC)"
ok "SIGTERM: worker stopped with status 0"
if "$HEALTH" worker 2>/dev/null; then fail "healthcheck.sh worker passed with the worker gone"; fi
ok "healthcheck.sh worker fails once the worker process is gone"

# ---------------------------------------------------------------- 3. refusals and pass-through
echo "- entrypoint.sh refusals"
LOG="$WORK/refuse.log"
rc=0; DATABASE_URL="postgres://pocketdev:pocketdev@127.0.0.1:1/$DB" timeout 60 "$ENTRY" serve --no-worker >"$LOG" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the entrypoint served although the migration could not run"
grep -q 'pocket-dev migrate failed' "$LOG" || fail "no 'pocket-dev migrate failed' message"
[ "$(http_code "http://$ADDR/health")" = 000 ] || fail "something answers on $ADDR after a failed migration"
ok "an unreachable database: migrate fails, the entrypoint exits $rc and never serves"
rc=0; WORKSPACE_ROOT="$ROOT/Cargo.toml" "$ENTRY" worker >"$LOG" 2>&1 || rc=$?
if [ "$rc" = 0 ] || ! grep -q 'is not a writable directory' "$LOG"; then
  fail "a WORKSPACE_ROOT that is a file was accepted"
fi
ok "WORKSPACE_ROOT that is not a writable directory: refused with a clear message (exit $rc)"
out="$("$ENTRY" echo pass-through)"
[ "$out" = pass-through ] || fail "a non-pocket-dev command was not exec'd as is: '$out'"
ok "a command that isn't a pocket-dev subcommand is exec'd as is (docker compose run … bash)"

LOG=""
scripts/services.sh psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
echo "entrypoint test: all passed"
