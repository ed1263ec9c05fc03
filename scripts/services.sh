#!/usr/bin/env bash
# scripts/services.sh — a private PostgreSQL and Redis for this checkout (loopback only).
#
# Owns: .data/pg (PostgreSQL cluster), .data/pgsock (its unix socket), .data/pg.log,
#       .data/redis (Redis AOF dir), .data/redis.pid, .data/redis.log.
#
# Usage: scripts/services.sh start|stop|status [pg|redis]   (default: both)
#        scripts/services.sh env                             prints `export DATABASE_URL=…` / `export REDIS_URL=…`
#        scripts/services.sh psql [psql args…]               psql on the private server (as pocketdev)
#
#   start   starts what isn't already answering on its port (an answering server is reused), waits up to
#           30 s until both answer, and makes sure role `pocketdev` (password `pocketdev`, superuser) and
#           database `pocketdev` exist.
#   stop    stops only servers this checkout started (its own data dir / pid file), never a foreign one.
#   status  prints the state; exit 0 iff every selected service answers.
#
# Ports: PD_PG_PORT (default 55432), PD_REDIS_PORT (default 56379); both bind 127.0.0.1 only.
# PostgreSQL authentication is `trust` (loopback + a private socket dir only); the password is set anyway.
#
# Running as root: PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` system user
# and initdb/pg_ctl run via `runuser -u postgres --`. That user must be able to reach $ROOT/.data; if it
# can't (e.g. the checkout is under a 700 home directory), the cluster, its socket and its log go to
# /tmp/pocketdev-<uid>-<hash of the checkout path>/ instead (recorded in .data/PG_LOCATION; `status` prints
# the paths). The socket dir also moves there when $ROOT is too long for a unix socket path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"
PG_PORT="${PD_PG_PORT:-55432}"
REDIS_PORT="${PD_REDIS_PORT:-56379}"
PG_USER=pocketdev PG_PASSWORD=pocketdev PG_DB=pocketdev
TIMEOUT=30

say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- PostgreSQL locations and helpers
pg_bindir() {
  if [ -n "${PD_PG_BIN:-}" ]; then echo "$PD_PG_BIN"; return; fi
  local d
  # the newest version's (sort -V: 16 after 9); without a match the glob stays as written, not a directory
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  if [ -d "$d" ]; then echo "$d"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
  die "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin); run scripts/setup.sh"
}
PGBIN="$(pg_bindir)"

AS_ROOT=0
[ "$(id -u)" -eq 0 ] && AS_ROOT=1

# run a PostgreSQL server command as the cluster owner
as_pg() {
  if [ "$AS_ROOT" = 1 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

ROOT_HASH="$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)"
FALLBACK="/tmp/pocketdev-$(id -u)-$ROOT_HASH"

# Decide where the cluster lives (deterministic, so every call agrees). Sets PGBASE, PGDATA, PGSOCK, PGLOG.
pg_locate() {
  PGBASE="$DATA"
  if [ "$AS_ROOT" = 1 ]; then
    id postgres >/dev/null 2>&1 || die "system user 'postgres' missing (install the postgresql package)"
    mkdir -p "$DATA"
    if ! runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
      PGBASE="$FALLBACK"
    fi
  fi
  PGDATA="$PGBASE/pg"
  PGLOG="$PGBASE/pg.log"
  PGSOCK="$PGBASE/pgsock"
  # sun_path holds 107 bytes: "$PGSOCK/.s.PGSQL.<port>"
  if [ "$(printf '%s' "$PGSOCK/.s.PGSQL.$PG_PORT" | wc -c)" -gt 100 ]; then
    PGSOCK="$FALLBACK/pgsock"
  fi
}

pg_prepare_dirs() {
  mkdir -p "$PGBASE" "$PGDATA" "$PGSOCK"
  touch "$PGLOG"
  chmod 700 "$PGDATA"
  if [ "$AS_ROOT" = 1 ]; then
    chown postgres: "$PGDATA" "$PGSOCK" "$PGLOG"
    [ "$PGBASE" = "$DATA" ] || chmod 755 "$PGBASE"
  fi
  if [ "$PGBASE" != "$DATA" ]; then
    printf 'PostgreSQL cluster for %s lives in %s (the postgres user cannot traverse %s)\n' \
      "$ROOT" "$PGBASE" "$DATA" >"$DATA/PG_LOCATION"
  fi
}

pg_ready()   { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1; }
# true iff the cluster in OUR data dir is running (postmaster.pid present and pg_ctl agrees)
pg_ours_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

pg_start() {
  pg_locate
  if pg_ready; then
    if pg_ours_running; then say "PostgreSQL: already running on 127.0.0.1:$PG_PORT (data $PGDATA)"
    else say "PostgreSQL: something already answers on 127.0.0.1:$PG_PORT (not this checkout's cluster); reusing it"; fi
  else
    pg_prepare_dirs
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
      say "PostgreSQL: initdb $PGDATA ($("$PGBIN/postgres" --version))"
      as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >>"$PGLOG" 2>&1 \
        || { tail -n 20 "$PGLOG" >&2; die "initdb failed; see $PGLOG"; }
      # static settings; port, listen address and socket dir are given on the pg_ctl command line
      as_pg sh -c "cat >>'$PGDATA/postgresql.conf'" <<'EOF'

# --- pocketdev (scripts/services.sh) ---
max_connections = 200
shared_buffers = 128MB
listen_addresses = '127.0.0.1'
log_min_messages = warning
EOF
    fi
    say "PostgreSQL: starting on 127.0.0.1:$PG_PORT (data $PGDATA, log $PGLOG)"
    as_pg "$PGBIN/pg_ctl" start -D "$PGDATA" -l "$PGLOG" -w -t "$TIMEOUT" \
      -o "-p $PG_PORT -h 127.0.0.1 -k '$PGSOCK'" >/dev/null \
      || { tail -n 20 "$PGLOG" >&2; die "PostgreSQL failed to start on 127.0.0.1:$PG_PORT; see $PGLOG"; }
  fi
}

pg_wait_and_provision() {
  local i=0
  until pg_ready; do
    i=$((i + 1))
    if [ "$i" -ge "$TIMEOUT" ]; then
      [ -f "$PGLOG" ] && tail -n 20 "$PGLOG" >&2
      die "PostgreSQL did not answer on 127.0.0.1:$PG_PORT within ${TIMEOUT} s; see ${PGLOG:-$DATA/pg.log}"
    fi
    sleep 1
  done
  # role + database (idempotent). Needs superuser `postgres` via trust; a foreign server may refuse.
  if psql_admin -tAc 'select 1' >/dev/null 2>&1; then
    psql_admin <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
EOF
    if [ -z "$(psql_admin -tAc "select 1 from pg_database where datname = '$PG_DB'")" ]; then
      psql_admin -c "CREATE DATABASE $PG_DB OWNER $PG_USER"
      say "PostgreSQL: created role $PG_USER / database $PG_DB"
    fi
  elif ! PGPASSWORD="$PG_PASSWORD" "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -tAc 'select 1' >/dev/null 2>&1; then
    die "PostgreSQL on 127.0.0.1:$PG_PORT answers, but neither 'postgres' nor '$PG_USER' can connect to database '$PG_DB' (a foreign server on that port? set PD_PG_PORT)"
  fi
}

pg_stop() {
  pg_locate
  if pg_ours_running; then
    say "PostgreSQL: stopping (data $PGDATA)"
    as_pg "$PGBIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t "$TIMEOUT" >/dev/null
  elif pg_ready; then
    say "PostgreSQL: 127.0.0.1:$PG_PORT is answering but it isn't this checkout's cluster; leaving it alone"
  else
    say "PostgreSQL: not running"
  fi
}

pg_status() {
  pg_locate
  if pg_ready; then
    if pg_ours_running; then say "PostgreSQL: up on 127.0.0.1:$PG_PORT (pid $(head -n1 "$PGDATA/postmaster.pid"), data $PGDATA, socket $PGSOCK, log $PGLOG)"
    else say "PostgreSQL: up on 127.0.0.1:$PG_PORT (not started by this checkout)"; fi
    return 0
  fi
  say "PostgreSQL: down (port $PG_PORT, data $PGDATA, log $PGLOG)"
  return 1
}

# ---------------------------------------------------------------- Redis
REDIS_DIR="$DATA/redis"
REDIS_PID="$DATA/redis.pid"
REDIS_LOG="$DATA/redis.log"

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
# pid of the redis this checkout started, if alive
redis_our_pid() {
  local pid
  [ -f "$REDIS_PID" ] || return 1
  pid="$(cat "$REDIS_PID" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q redis "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

redis_start() {
  command -v redis-server >/dev/null || die "redis-server not found; run scripts/setup.sh"
  if redis_ready; then
    if redis_our_pid >/dev/null; then say "Redis: already running on 127.0.0.1:$REDIS_PORT"
    else say "Redis: something already answers on 127.0.0.1:$REDIS_PORT (not started by this checkout); reusing it"; fi
    return 0
  fi
  mkdir -p "$REDIS_DIR"
  rm -f "$REDIS_PID"
  say "Redis: starting on 127.0.0.1:$REDIS_PORT (dir $REDIS_DIR, log $REDIS_LOG)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
    --appendonly yes --save '' --daemonize yes \
    --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" \
    || { [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2; die "redis-server failed to start; see $REDIS_LOG"; }
}

redis_wait() {
  local i=0
  until redis_ready; do
    i=$((i + 1))
    if [ "$i" -ge "$((TIMEOUT * 4))" ]; then
      [ -f "$REDIS_LOG" ] && tail -n 20 "$REDIS_LOG" >&2
      die "Redis did not answer on 127.0.0.1:$REDIS_PORT within ${TIMEOUT} s; see $REDIS_LOG"
    fi
    sleep 0.25
  done
}

redis_stop() {
  local pid i
  if pid="$(redis_our_pid)"; then
    say "Redis: stopping (pid $pid)"
    kill -TERM "$pid"   # with --save '' nothing is dumped; the AOF is flushed on shutdown
    for i in $(seq 1 $((TIMEOUT * 4))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && die "Redis (pid $pid) did not stop within ${TIMEOUT} s"
    rm -f "$REDIS_PID"
  elif redis_ready; then
    say "Redis: 127.0.0.1:$REDIS_PORT is answering but it wasn't started by this checkout; leaving it alone"
  else
    say "Redis: not running"
  fi
}

redis_status() {
  local pid
  if redis_ready; then
    if pid="$(redis_our_pid)"; then say "Redis: up on 127.0.0.1:$REDIS_PORT (pid $pid, dir $REDIS_DIR, log $REDIS_LOG)"
    else say "Redis: up on 127.0.0.1:$REDIS_PORT (not started by this checkout)"; fi
    return 0
  fi
  say "Redis: down (port $REDIS_PORT, log $REDIS_LOG)"
  return 1
}

# ---------------------------------------------------------------- main
cmd="${1:-status}"
what=all
case "$cmd" in
  start|stop|status)
    what="${2:-all}"
    case "$what" in all|pg|redis) ;; *) die "unknown service '$what' (pg|redis|all)";; esac
    ;;
esac
want() { [ "$what" = all ] || [ "$what" = "$1" ]; }

case "$cmd" in
  start)
    mkdir -p "$DATA"
    if want pg; then pg_start; fi
    if want redis; then redis_start; fi
    if want pg; then pg_wait_and_provision; fi
    if want redis; then redis_wait; fi
    say "ready:$(want pg && printf ' postgres://%s:***@127.0.0.1:%s/%s' "$PG_USER" "$PG_PORT" "$PG_DB")$(want redis && printf ' redis://127.0.0.1:%s/' "$REDIS_PORT")"
    ;;
  stop)
    if want redis; then redis_stop; fi
    if want pg; then pg_stop; fi
    ;;
  status)
    rc=0
    if want pg; then pg_status || rc=1; fi
    if want redis; then redis_status || rc=1; fi
    exit "$rc"
    ;;
  env)
    printf 'export DATABASE_URL=postgres://%s:%s@127.0.0.1:%s/%s\n' "$PG_USER" "$PG_PASSWORD" "$PG_PORT" "$PG_DB"
    printf 'export REDIS_URL=redis://127.0.0.1:%s/\n' "$REDIS_PORT"
    ;;
  psql)
    shift
    PGPASSWORD="$PG_PASSWORD" exec "$PGBIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" "$@"
    ;;
  -h|--help|help)
    sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  *)
    die "usage: $0 start|stop|status [pg|redis] | env | psql [args]"
    ;;
esac
