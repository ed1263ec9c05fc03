#!/usr/bin/env bash
# deploy/checks/compose_test.sh — the Compose deployment, built and run for real, as README says (./test docker).
#
# It follows README's "Deployment" section as a user would: its shell blocks are read from README.md and run as
# written (scripts/readme_tables.py sh), in a clone of a copy of this repository (.data/compose-test/), with
# `docker` on the private engine of scripts/docker.sh and the stand-in base images of deploy/checks/standins.sh.
# Three things differ from a user's server, each a test fixture: COMPOSE_FILE adds deploy/checks/compose.test.yml
# (build on the host network, the proxy's port on 127.0.0.1 only, the mock LLM as a service); README's
# `$EDITOR .env` runs deploy/checks/fill_env.py with fresh test credentials; and its placeholders
# `<this repository>` and `DATE` are filled in. Timing each step, it checks:
#   1. first start (README): clone, .env from .env.example, `docker compose up -d` builds both images (the app
#      through scripts/setup.sh + scripts/build-release.sh, as CI runs them) and starts everything;
#   2. every service healthy (up --wait); only the proxy publishes a port, on 127.0.0.1 (read from the running
#      containers, not the file);
#   3. through the proxy on 127.0.0.1: /health open; the API and the page 401 without credentials; the page
#      hydrates in Chromium; a prompt streams token by token with exactly the mock's reply; the maintenance
#      page while the app container is stopped;
#   4. scaling (README): three workers run ten concurrent turns, each exactly the mock's reply; a worker
#      container killed mid-turn, and its turn completes through another with the mock's reply, nothing spliced;
#   5. conversations and a stored key survive `docker compose down` and `up`; README's backup commands, then
#      its restore commands into fresh volumes, bring them back;
#   6. README's upgrade to a next release (this commit plus deploy/checks/upgrade/, a migration) pulls, builds,
#      migrates and serves the same conversations;
#   7. what the app and the Claude Code CLI write in workspace-data and user-data belongs to USER_ID:GROUP_ID;
#      nothing in the app and worker containers runs as root; `claude` and `gh` start;
#   8. Compose refuses an empty DB_PASSWORD, BASIC_AUTH_USER or BASIC_AUTH_PASS and changes nothing; the proxy
#      and the app refuse the placeholder password of .env.example.
# On failure it prints the logs of every container. The project is brought down with its volumes at the start
# (a clean deployment) and at the end; the engine is stopped at the end only if this script started it.
#
# Usage: deploy/checks/compose_test.sh        (PD_TEST_PROXY_PORT: the proxy's loopback port, default 18080;
#        PD_COMPOSE_KEEP=1 leaves the project and the engine running at the end, to look at them)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
STATE="$ROOT/.data/compose-test"
UPSTREAM="$STATE/upstream.git"   # "this repository", as a user clones it
CHECKOUT="$STATE/pocket-dev"     # the user's deployment directory
export PD_TEST_PROXY_PORT="${PD_TEST_PROXY_PORT:-18080}"
export COMPOSE_FILE="compose.yml:$ROOT/deploy/checks/compose.test.yml"
BASE="http://127.0.0.1:$PD_TEST_PROXY_PORT"
T0=$SECONDS STEP_T0=$SECONDS STEP=""
STARTED_ENGINE=0

say() { printf '[compose-test] %s\n' "$*"; }
fail() { printf '[compose-test] FAIL (%s): %s\n' "$STEP" "$*" >&2; exit 1; }
step() {
  [ -n "$STEP" ] && say "ok   $STEP ($((SECONDS - STEP_T0)) s)"
  STEP="$1" STEP_T0=$SECONDS
  say "---- $STEP"
}

scripts/docker.sh status || STARTED_ENGINE=1
scripts/docker.sh start
eval "$(scripts/docker.sh env)"
# Compose on the deployment directory (its .env), or by project name before there is one.
compose() {
  if [ -f "$CHECKOUT/compose.yml" ]; then (cd "$CHECKOUT" && "$DOCKER" compose "$@"); else "$DOCKER" compose -p pocket-dev "$@"; fi
}
turns() { python3 "$ROOT/deploy/checks/compose_turns.py" "$BASE" "$USER_NAME:$PASSWORD" "$@"; }
# readme HEADING N: runs README's N-th sh block under `### HEADING` as written, in the deployment directory's
# parent (block 1 of the first start) or in it, its placeholders filled in; prints the commands it ran.
readme() {
  local block
  block="$(python3 "$ROOT/scripts/readme_tables.py" sh "$1" "$2")" || fail "README has no such block"
  block="${block//<this repository>/$UPSTREAM}"
  block="${block//DATE/${BACKUP_DATE:-DATE}}"
  while IFS= read -r line; do say "     \$ $line"; done <<<"$block"
  (if [ -d "$CHECKOUT" ]; then cd "$CHECKOUT"; else cd "$STATE"; fi; bash -euo pipefail -c "$block")
}

finish() {
  local rc=$?
  trap - EXIT
  set +e
  if [ "$rc" != 0 ]; then
    say "---- logs of every container"
    compose ps -a
    compose logs --no-color --timestamps --tail 80
  fi
  if [ "${PD_COMPOSE_KEEP:-0}" = 1 ]; then
    say "PD_COMPOSE_KEEP=1: the project and the engine are left running (deployment in $CHECKOUT)"
  else
    compose down -v --remove-orphans >/dev/null 2>&1
    [ "$STARTED_ENGINE" = 1 ] && scripts/docker.sh stop
  fi
  if [ "$rc" = 0 ]; then say "all steps passed in $((SECONDS - T0)) s"; else say "FAILED after $((SECONDS - T0)) s"; fi
  exit "$rc"
}
trap finish EXIT

step "stand-in base images (test fixtures)"
deploy/checks/standins.sh

# A clean deployment: no project, no volumes, none of its images (so the first start builds them, as on a fresh
# server; the engine's build cache stays), and a fresh copy of this repository's HEAD to clone from.
compose down -v --remove-orphans >/dev/null 2>&1 || true
"$DOCKER" image rm -f pocket-dev:local pocket-dev-proxy:local >/dev/null 2>&1 || true
rm -rf "$STATE" && mkdir -p "$STATE"
git clone -q --bare "$ROOT" "$UPSTREAM"
# Fresh test credentials and keys, never the ones of a real .env; README's `$EDITOR .env` writes them in.
USER_NAME=pocketdev
PASSWORD="test-$(openssl rand -hex 12)"
API_KEY="sk-ant-test-$(openssl rand -hex 16)"
cat >"$STATE/test-values" <<ENV
DB_PASSWORD=test-db-$(openssl rand -hex 8)
BASIC_AUTH_USER=$USER_NAME
BASIC_AUTH_PASS=$PASSWORD
ANTHROPIC_API_KEY=$API_KEY
ANTHROPIC_BASE_URL=http://pocket-dev-mock-llm:3900
ENV
export EDITOR="python3 $ROOT/deploy/checks/fill_env.py $STATE/test-values"

step "1. first start (README): clone, .env, docker compose up -d builds both images and starts everything"
export DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain
readme "First start on a fresh server" 1 >"$STATE/first-start.log" 2>&1 \
  || { tail -n 60 "$STATE/first-start.log" >&2; fail "README's first start failed; see $STATE/first-start.log"; }
grep '^\[compose-test\]' "$STATE/first-start.log"
[ -f "$CHECKOUT/.env" ] || fail "the first start made no $CHECKOUT/.env"

step "2. docker compose up --wait: every service healthy"
compose up -d --wait --wait-timeout 240 || fail "a service did not become healthy"
for service in pocket-dev-postgres pocket-dev-redis pocket-dev-app pocket-dev-proxy pocket-dev-worker pocket-dev-mock-llm; do
  id="$(compose ps -q "$service" | head -n 1)"
  [ -n "$id" ] || fail "$service is not running"
  health="$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$id")"
  [ "$health" = healthy ] || fail "$service is $health"
  # What the container asked for (HostConfig), not only what it got: on an internal network Docker publishes
  # nothing even when asked, and the file would still be wrong.
  # shellcheck disable=SC2016 # a Go template, not shell
  ports="$("$DOCKER" inspect -f '{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}{{$p}}={{.HostIp}}:{{.HostPort}} {{end}}{{end}}' "$id")"
  if [ "$service" = pocket-dev-proxy ]; then
    [ "$ports" = "80/tcp=127.0.0.1:$PD_TEST_PROXY_PORT " ] || fail "the proxy publishes '$ports', not 80 on 127.0.0.1:$PD_TEST_PROXY_PORT alone"
    # shellcheck disable=SC2016 # a Go template, not shell
    actual="$("$DOCKER" inspect -f '{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{$p}}={{.HostIp}}:{{.HostPort}} {{end}}{{end}}' "$id")"
    [ "$actual" = "$ports" ] || fail "the proxy asked for '$ports' but has '$actual'"
  else
    [ -z "$ports" ] || fail "$service publishes a port: $ports"
  fi
  say "     $service: healthy, ${ports:-no published port}"
done

step "3a. through the proxy: /health open, everything else 401 without credentials"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
[ "$(code "$BASE/health")" = 200 ] || fail "/health is not 200 without credentials"
for path in / /api/conversations /settings; do
  [ "$(code "$BASE$path")" = 401 ] || fail "$path is not 401 without credentials"
  [ "$(code -u "$USER_NAME:wrong" "$BASE$path")" = 401 ] || fail "$path is not 401 with a wrong password"
done
[ "$(code -u "$USER_NAME:$PASSWORD" "$BASE/api/conversations")" = 200 ] || fail "/api/conversations is not 200 with the credentials"

step "3b. the page loads and hydrates in Chromium, through the proxy"
(cd end2end && node checks/hydrates.mjs "$BASE/" "$USER_NAME:$PASSWORD") || fail "the page did not hydrate"

step "3c. a prompt streams token by token from the mock LLM service"
turns stream || fail "the prompt did not stream as the mock sent it"

step "3d. the maintenance page while the app container is stopped"
compose stop pocket-dev-app >/dev/null
body="$(curl -s -u "$USER_NAME:$PASSWORD" -w '\n%{http_code}' --max-time 10 "$BASE/")"
status="${body##*$'\n'}"
[ "$status" = 503 ] || fail "the page is $status while the app is stopped, not 503"
grep -qi "maintenance\|back soon\|restarting" <<<"$body" || fail "the 503 is not the maintenance page"
compose start pocket-dev-app >/dev/null
compose up -d --wait --wait-timeout 180 >/dev/null || fail "the app did not come back healthy"
[ "$(code -u "$USER_NAME:$PASSWORD" "$BASE/api/conversations")" = 200 ] || fail "the app does not answer through the proxy after its restart"

step "4. scaling (README): ten concurrent turns on three workers; a worker container killed mid-turn"
readme "Scaling workers" 1 >/dev/null 2>&1 || fail "README's scaling command failed"
compose up -d --wait --wait-timeout 180 --scale pocket-dev-worker=3 >/dev/null 2>&1 || fail "three workers did not become healthy"
[ "$(compose ps -q pocket-dev-worker | wc -l)" = 3 ] || fail "not three workers running"
turns concurrent 10 3 || fail "the ten concurrent turns did not all complete with the mock's reply on the three workers"
turns kill-mid-turn || fail "the killed worker's turn did not complete through another"

step "5a. conversations and a stored key survive docker compose down (without -v) and up"
turns seed "$STATE/kept.json" || fail "could not write the conversations to keep"
compose down >/dev/null 2>&1 || fail "docker compose down failed"
compose up -d --wait --wait-timeout 240 >/dev/null 2>&1 || fail "the services did not come back healthy"
turns check "$STATE/kept.json" || fail "something was lost across down and up"

step "5b. README's backup commands, then its restore commands into fresh volumes"
readme Backups 1 || fail "README's backup commands failed"
dump="$(cd "$CHECKOUT" && ls pocket-dev-*.dump)" || fail "the backup wrote no dump"
BACKUP_DATE="${dump#pocket-dev-}" BACKUP_DATE="${BACKUP_DATE%.dump}"
for file in "$dump" "pocket-dev-files-$BACKUP_DATE.tgz"; do
  [ -s "$CHECKOUT/$file" ] || fail "the backup file $file is missing or empty"
done
compose down -v >/dev/null 2>&1 || fail "docker compose down -v failed"
[ -z "$("$DOCKER" volume ls -q --filter label=com.docker.compose.project=pocket-dev)" ] || fail "volumes are left after down -v"
readme Backups 2 || fail "README's restore commands failed"
compose up -d --wait --wait-timeout 240 >/dev/null 2>&1 || fail "the restored deployment did not become healthy"
turns check "$STATE/kept.json" || fail "the restore did not bring everything back"

step "6. README's upgrade to a next release with a migration: pulls, builds, migrates, serves"
before="$("$DOCKER" inspect -f '{{.Image}}' pocket-dev-app)"
git clone -q "$UPSTREAM" "$STATE/next-release"
cp deploy/checks/upgrade/*.sql "$STATE/next-release/migrations/"
git -C "$STATE/next-release" add migrations
git -C "$STATE/next-release" -c user.name="compose test" -c user.email=test@localhost commit -qm "The next release (test fixture)"
git -C "$STATE/next-release" push -q origin HEAD
readme Upgrading 1 >"$STATE/upgrade.log" 2>&1 || { tail -n 60 "$STATE/upgrade.log" >&2; fail "README's upgrade failed; see $STATE/upgrade.log"; }
grep '^\[compose-test\]' "$STATE/upgrade.log"
compose up -d --wait --wait-timeout 240 >/dev/null 2>&1 || fail "the upgraded deployment did not become healthy"
after="$("$DOCKER" inspect -f '{{.Image}}' pocket-dev-app)"
[ "$after" != "$before" ] || fail "the app container still runs the old image"
psql_app() { compose exec -T pocket-dev-postgres psql -U pocket-dev -d pocket-dev -tAc "$1"; }
[ "$(psql_app "SELECT release FROM upgrade_probe")" = next ] || fail "the next release's migration was not applied"
say "     the app runs the new image; the next release's migration is applied"
turns check "$STATE/kept.json" || fail "the upgrade lost something"
# README's rebuild of the projections after an upgrade, as written; the views must come out the same.
replay="$(python3 scripts/readme_tables.py line Upgrading "pocket-dev replay")" || fail "README names no replay command"
say "     \$ $replay"
out="$(cd "$CHECKOUT" && bash -c "$replay" 2>&1)" || fail "README's replay failed: $out"
say "     $(tail -n 1 <<<"$out")"
turns check "$STATE/kept.json" || fail "the replay changed a conversation"
turns stream || fail "the upgraded deployment does not stream a reply"

step "7. volumes belong to USER_ID:GROUP_ID; nothing runs as root; claude and gh start"
turns agent-writes || fail "the Claude Code CLI did not write its file"
ids="$(grep -E '^(USER_ID|GROUP_ID)=' "$CHECKOUT/.env" | sort | cut -d= -f2 | tr '\n' ' ')"
read -r gid uid <<<"$ids"
strangers="$(compose exec -T -u 0 pocket-dev-app find /workspace /home/pocketdev \( ! -uid "$uid" -o ! -gid "$gid" \) -print)"
[ -z "$strangers" ] || fail "files in the volumes not owned by $uid:$gid: $strangers"
files="$(compose exec -T -u 0 pocket-dev-app find /workspace /home/pocketdev -type f | wc -l)"
say "     $files files in workspace-data and user-data, all owned by $uid:$gid"
for id in $(compose ps -q pocket-dev-app pocket-dev-worker); do
  processes="$("$DOCKER" top "$id" -o pid,uid,comm)" || fail "docker top $id failed"
  users="$(tail -n +2 <<<"$processes" | awk '{print $2}' | sort -u | tr '\n' ' ')"
  [ "$users" = "$uid " ] || fail "container $id runs processes as uid(s) $users, not $uid alone"
done
say "     every process of the app and the workers runs as uid $uid"
for tool in claude gh; do
  version="$(compose exec -T pocket-dev-worker "$tool" --version | head -n 1)" || fail "$tool --version failed in the worker"
  say "     $tool --version: $version"
done

step "8. Compose refuses empty credentials; the proxy and the app refuse the placeholder password"
running="$(compose ps -q | sort)"
for var in DB_PASSWORD BASIC_AUTH_USER BASIC_AUTH_PASS; do
  sed "s/^$var=.*/$var=/" "$CHECKOUT/.env" >"$STATE/refused.env"
  if out="$(compose --env-file "$STATE/refused.env" up -d 2>&1)"; then fail "compose started with an empty $var"; fi
  grep -q "set $var in .env" <<<"$out" || fail "the refusal of an empty $var does not name it: $out"
done
[ "$(compose ps -q | sort)" = "$running" ] || fail "a refused start changed the running containers"
say "     an empty DB_PASSWORD, BASIC_AUTH_USER or BASIC_AUTH_PASS: refused, named, nothing changed"
# .env.example as it comes, but for DB_PASSWORD: BASIC_AUTH_PASS is the placeholder.
sed "s/^DB_PASSWORD=.*/DB_PASSWORD=test-only/" "$CHECKOUT/.env.example" >"$STATE/placeholder.env"
for image in pocket-dev-proxy:local pocket-dev:local; do
  if out="$("$DOCKER" run --rm --network none --env-file "$STATE/placeholder.env" -e PD_MIGRATE=0 "$image" 2>&1)"; then
    fail "$image started with the placeholder password"
  fi
  grep -q "change-me" <<<"$out" || fail "$image's refusal does not name the placeholder: $out"
  say "     $image refuses: $(grep -m1 change-me <<<"$out")"
done

step "done"
