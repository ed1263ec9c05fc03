#!/usr/bin/env bash
# deploy/app/entrypoint.sh — the entrypoint of the pocket-dev image (pocket-dev-app, pocket-dev-worker).
#
# Usage: entrypoint.sh [SUBCOMMAND [ARGS…]]       (default: serve)
#   1. For serve, worker and replay: checks that WORKSPACE_ROOT and HOME are writable directories, then
#      runs `pocket-dev migrate` (idempotent; sqlx takes an advisory lock, so concurrent runs are safe).
#      A failed migration ends the container with pocket-dev's exit status: it never serves an
#      unmigrated database. PD_MIGRATE=0 skips the migration.
#   2. Records "<pid> <subcommand>" in $PD_STATE_DIR/role (default /tmp/pocket-dev) for healthcheck.sh.
#   3. execs `pocket-dev SUBCOMMAND ARGS…`: same PID, so SIGTERM from `docker stop` reaches pocket-dev.
#   A first argument that isn't a pocket-dev subcommand is exec'd as is (`bash`, `claude`, `gh auth login`).
#
# Environment: everything pocket-dev reads (see .env.example), plus
#   PD_MIGRATE=0        don't migrate
#   PD_STATE_DIR        where the role file goes (default /tmp/pocket-dev)
#   POCKET_DEV_BIN      the binary (default: pocket-dev on PATH)
#
# CI runs this script for real against the private Postgres (scripts/check-deploy.sh).
set -euo pipefail

BIN="${POCKET_DEV_BIN:-pocket-dev}"
STATE_DIR="${PD_STATE_DIR:-/tmp/pocket-dev}"

say() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { printf '[entrypoint] ERROR: %s\n' "$*" >&2; exit "${2:-1}"; }

if [ "$#" -eq 0 ]; then set -- serve; fi
command="$1"

case "$command" in
  serve|worker|replay|migrate|mock-llm) ;;
  *) exec "$@" ;;
esac

command -v "$BIN" >/dev/null 2>&1 || die "'$BIN' not found on PATH"

writable_dir() { # variable-name path
  local name="$1" dir="$2"
  mkdir -p "$dir" 2>/dev/null || true
  if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
    die "$name=$dir is not a writable directory for uid $(id -u) gid $(id -g). For a bind mount: chown it to that uid, or rebuild the image with --build-arg USER_ID=… GROUP_ID=… (USER_ID/GROUP_ID in .env)."
  fi
}

case "$command" in
  serve|worker|replay)
    writable_dir WORKSPACE_ROOT "${WORKSPACE_ROOT:-workspace}"
    writable_dir HOME "${HOME:?HOME is not set}"
    if [ "${PD_MIGRATE:-1}" = 0 ]; then
      say "PD_MIGRATE=0: not migrating"
    else
      say "pocket-dev migrate"
      status=0
      "$BIN" migrate || status=$?
      [ "$status" -eq 0 ] || die "pocket-dev migrate failed (exit $status); not starting '$command'" "$status"
    fi
    ;;
esac

if mkdir -p "$STATE_DIR" 2>/dev/null && printf '%s %s\n' "$$" "$command" >"$STATE_DIR/role.tmp" 2>/dev/null; then
  mv -f "$STATE_DIR/role.tmp" "$STATE_DIR/role"
else
  say "warning: cannot write $STATE_DIR/role; healthcheck.sh will need an explicit mode"
fi

say "exec pocket-dev $*"
exec "$BIN" "$@"
