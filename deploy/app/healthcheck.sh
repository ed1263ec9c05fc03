#!/usr/bin/env bash
# deploy/app/healthcheck.sh — the container healthcheck of the pocket-dev image. Exit 0 = healthy.
#
# Usage: healthcheck.sh [serve|worker]
#   serve   GET http://127.0.0.1:<port of LEPTOS_SITE_ADDR>/health answers 200 (the app's own check
#           that Postgres and Redis answer).
#   worker  the worker process recorded by entrypoint.sh is alive, Postgres (host of DATABASE_URL)
#           answers a protocol handshake, and Redis (REDIS_URL) answers PING.
#   no mode: the subcommand recorded by entrypoint.sh in $PD_STATE_DIR/role (default /tmp/pocket-dev);
#           serve when there is none. One HEALTHCHECK line in the Dockerfile thus fits app and worker.
#
# Needs only bash, curl and coreutils (timeout). CI runs it for real (scripts/check-deploy.sh).
set -uo pipefail

STATE_DIR="${PD_STATE_DIR:-/tmp/pocket-dev}"
TIMEOUT_S="${PD_HEALTHCHECK_TIMEOUT_S:-3}"

fail() { printf 'unhealthy: %s\n' "$*" >&2; exit 1; }

pid="" role=""
if [ -r "$STATE_DIR/role" ]; then read -r pid role <"$STATE_DIR/role" || true; fi
mode="${1:-${role:-serve}}"

# host and port of a URL like scheme://user:pass@host:port/path (IPv6 hosts in brackets)
url_host_port() { # url default-port
  local rest="${1#*://}" default="$2" hostport host port
  rest="${rest%%/*}"; rest="${rest%%\?*}"
  hostport="${rest##*@}"
  if [[ "$hostport" == \[*\]* ]]; then
    host="${hostport%%]*}"; host="${host#[}"; port="${hostport##*]}"; port="${port#:}"
  else
    host="${hostport%%:*}"; port="${hostport#"$host"}"; port="${port#:}"
  fi
  printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$default}"
}

# The recorded process is still the pocket-dev that entrypoint.sh exec'd.
process_alive() {
  [ -n "$pid" ] || return 0 # nothing recorded (explicit mode outside the entrypoint): skip
  kill -0 "$pid" 2>/dev/null || fail "process $pid ($role) is gone"
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "pocket-dev" \
    || fail "process $pid is no longer pocket-dev"
}

case "$mode" in
  serve)
    addr="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
    port="${addr##*:}"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time "$TIMEOUT_S" "http://127.0.0.1:$port/health")" \
      || fail "GET http://127.0.0.1:$port/health: no answer"
    [ "$code" = 200 ] || fail "GET http://127.0.0.1:$port/health answered $code"
    ;;
  worker)
    process_alive
    [ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL is not set"
    [ -n "${REDIS_URL:-}" ] || fail "REDIS_URL is not set"
    read -r pg_host pg_port < <(url_host_port "$DATABASE_URL" 5432)
    read -r redis_host redis_port < <(url_host_port "$REDIS_URL" 6379)
    # PostgreSQL SSLRequest (length 8, code 80877103): a server answers one byte, S or N.
    # shellcheck disable=SC2016 # the inner script's $1/$2 are its own arguments
    reply="$(timeout "$TIMEOUT_S" bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "\000\000\000\010\004\322\026\057" >&3 && head -c1 <&3' \
      _ "$pg_host" "$pg_port" 2>/dev/null)" || true
    case "$reply" in S|N) ;; *) fail "PostgreSQL at $pg_host:$pg_port does not answer" ;; esac
    # Redis PING: +PONG, or -NOAUTH when a password is required (the server answers either way).
    # shellcheck disable=SC2016
    reply="$(timeout "$TIMEOUT_S" bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && head -n1 <&3' \
      _ "$redis_host" "$redis_port" 2>/dev/null)" || true
    case "$reply" in +PONG*|-NOAUTH*) ;; *) fail "Redis at $redis_host:$redis_port does not answer PING" ;; esac
    ;;
  *)
    fail "unknown mode '$mode' (serve|worker)"
    ;;
esac
exit 0
