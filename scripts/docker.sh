#!/usr/bin/env bash
# scripts/docker.sh — a private Docker engine for the tests (./test docker): installs it if missing, runs it
# with its own data root, exec root, socket and pidfile under .data/docker/, without iptables, masquerading
# or the default bridge (containers reach each other on Compose's networks, and nothing outside the machine),
# and stops only an engine it started.
#
# Usage: scripts/docker.sh start    install what is missing, start the engine unless its socket answers
#        scripts/docker.sh stop     stop the engine this script started (by its pidfile)
#        scripts/docker.sh status   exit 0 when the engine answers
#        scripts/docker.sh env      print `export DOCKER_HOST=…` and the CLI to use (eval it)
#
# What it installs, once per machine:
#   - Debian's docker.io (dockerd, containerd, runc; bookworm's 20.10) and debootstrap (for the stand-in images);
#   - Compose v2 and buildx, which bookworm lacks: Debian trixie's docker-compose and docker-buildx packages,
#     downloaded with apt into .data/docker/debs with their own sources and lists (the machine's apt state is
#     untouched), unpacked, their CLI plugins copied to .data/docker/cli-plugins (DOCKER_CONFIG points there).
# The engine's data root is kept between runs, so images and build caches built once are reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="$ROOT/.data/docker"
DATA="$BASE/root"
# Short paths: a unix socket path must stay under 108 bytes, and containerd nests its own under the exec root.
EXEC="/run/pd-docker-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)"
SOCKET="$BASE/docker.sock"
PIDFILE="$BASE/dockerd.pid"
LOG="$BASE/dockerd.log"
CONFIG="$BASE/config"
# Debian's CLI: the one on the machine image (/usr/local/bin/docker) has no plugins and may be another version.
DOCKER=/usr/bin/docker

say() { printf '[docker] %s\n' "$*"; }
die() { printf '[docker] ERROR: %s\n' "$*" >&2; exit 1; }

answers() { DOCKER_HOST="unix://$SOCKET" DOCKER_CONFIG="$CONFIG" "$DOCKER" info >/dev/null 2>&1; }

install_engine() {
  if [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER" ] && command -v debootstrap >/dev/null; then return 0; fi
  say "installing docker.io and debootstrap (apt)"
  [ "$(id -u)" = 0 ] || die "installing Docker needs root"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
}

install_plugins() {
  if [ -x "$CONFIG/cli-plugins/docker-compose" ] && [ -x "$CONFIG/cli-plugins/docker-buildx" ]; then return 0; fi
  say "fetching Compose v2 and buildx (Debian trixie's packages) into $BASE/debs"
  local apt="$BASE/apt" debs="$BASE/debs"
  mkdir -p "$apt/lists/partial" "$apt/sources" "$debs" "$CONFIG/cli-plugins"
  cat >"$apt/sources/trixie.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources" -o "Dir::State::Lists=$apt/lists")
  apt-get "${opts[@]}" update -qq
  (cd "$debs" && apt-get "${opts[@]}" download docker-compose docker-buildx >/dev/null)
  local deb unpacked="$BASE/unpacked"
  rm -rf "$unpacked"
  for deb in "$debs"/docker-compose_*.deb "$debs"/docker-buildx_*.deb; do dpkg -x "$deb" "$unpacked"; done
  cp "$unpacked"/usr/libexec/docker/cli-plugins/docker-{compose,buildx} "$CONFIG/cli-plugins/"
  rm -rf "$unpacked"
}

start() {
  mkdir -p "$BASE" "$CONFIG"
  install_engine
  install_plugins
  if answers; then say "engine already answers on $SOCKET"; return 0; fi
  say "starting dockerd (data $DATA, socket $SOCKET, log $LOG)"
  mkdir -p "$DATA" "$EXEC"
  # setsid: the engine outlives this script (./test stops it at the end), not its process group.
  setsid /usr/sbin/dockerd --data-root "$DATA" --exec-root "$EXEC" --pidfile "$PIDFILE" -H "unix://$SOCKET" \
    --iptables=false --ip-masq=false --bridge=none >"$LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if answers; then say "engine ready ($("$DOCKER" --version), $(DOCKER_CONFIG="$CONFIG" "$DOCKER" compose version --short 2>/dev/null || echo 'no compose'))"; return 0; fi
    sleep 0.5
  done
  tail -n 30 "$LOG" >&2 || true
  die "dockerd did not answer within 60 s; see $LOG"
}

stop() {
  [ -f "$PIDFILE" ] || { say "no engine started by this script"; return 0; }
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$PIDFILE"
  say "engine stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  env)
    printf 'export DOCKER_HOST=unix://%s\n' "$SOCKET"
    printf 'export DOCKER_CONFIG=%s\n' "$CONFIG"
    printf 'export DOCKER=%s\n' "$DOCKER"
    ;;
  *) die "usage: scripts/docker.sh start|stop|status|env" ;;
esac
