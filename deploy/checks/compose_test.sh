#!/usr/bin/env bash
# deploy/checks/compose_test.sh — the Compose deployment, built and run for real (./test docker; issue 16).
#
# Against the shipped compose.yml plus deploy/checks/compose.test.yml (build on the host network, the proxy's
# port on 127.0.0.1 only, the mock LLM as a service), on the private engine of scripts/docker.sh with the
# stand-in base images of deploy/checks/standins.sh, it runs, timing each step:
#   1. docker compose build: the app image (scripts/setup.sh + scripts/build-release.sh, as CI runs them) and
#      the proxy image;
#   2. docker compose up --wait: every service healthy; only the proxy publishes a port, on 127.0.0.1 (read
#      from the running containers, not the file);
#   3. through the proxy on 127.0.0.1: /health open; the API and the page 401 without credentials; the page
#      loads and hydrates in Chromium with them; a prompt streams token by token from the mock LLM service and
#      its text is exactly the mock's; the maintenance page while the app container is stopped.
# On failure it prints the logs of every container. The project is brought down with its volumes at the start
# (a clean deployment) and at the end; the engine is stopped at the end only if this script started it.
#
# Usage: deploy/checks/compose_test.sh        (PD_TEST_PROXY_PORT: the proxy's loopback port, default 18080)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
STATE="$ROOT/.data/compose-test"
ENV_FILE="$STATE/env"
export PD_TEST_PROXY_PORT="${PD_TEST_PROXY_PORT:-18080}"
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
compose() { "$DOCKER" compose --env-file "$ENV_FILE" -f compose.yml -f deploy/checks/compose.test.yml "$@"; }

finish() {
  local rc=$?
  trap - EXIT
  set +e
  if [ "$rc" != 0 ]; then
    say "---- logs of every container"
    compose ps -a
    compose logs --no-color --timestamps --tail 80
  fi
  compose down -v --remove-orphans >/dev/null 2>&1
  [ "$STARTED_ENGINE" = 1 ] && scripts/docker.sh stop
  if [ "$rc" = 0 ]; then say "all steps passed in $((SECONDS - T0)) s"; else say "FAILED after $((SECONDS - T0)) s"; fi
  exit "$rc"
}
trap finish EXIT

step "stand-in base images (test fixtures)"
deploy/checks/standins.sh

# Fresh test credentials and keys, never the ones of a real .env.
mkdir -p "$STATE"
USER_NAME=pocketdev
PASSWORD="test-$(openssl rand -hex 12)"
API_KEY="sk-ant-test-$(openssl rand -hex 16)"
cat >"$ENV_FILE" <<ENV
DB_PASSWORD=test-db-$(openssl rand -hex 8)
BASIC_AUTH_USER=$USER_NAME
BASIC_AUTH_PASS=$PASSWORD
NGINX_PORT=80
ANTHROPIC_API_KEY=$API_KEY
ANTHROPIC_BASE_URL=http://pocket-dev-mock-llm:3900
USER_ID=1000
GROUP_ID=1000
ENV
compose down -v --remove-orphans >/dev/null 2>&1 || true

step "1. docker compose build (app and proxy images)"
DOCKER_BUILDKIT=1 compose build --progress=plain >"$STATE/build.log" 2>&1 || { tail -n 60 "$STATE/build.log" >&2; fail "the build failed; see $STATE/build.log"; }

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
python3 - "$BASE" "$USER_NAME:$PASSWORD" <<'PY' || fail "the prompt did not stream as the mock sent it"
import base64, json, sys, threading, time, urllib.request
base, credentials = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, headers={**auth, "Content-Type": "application/json", "Origin": base},
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")
conversation = call("POST", "/api/conversations", {"provider": "anthropic"})["id"]
feed = urllib.request.urlopen(urllib.request.Request(f"{base}/api/conversations/{conversation}/events", headers=auth), timeout=60)
prompt = f"compose test {time.time_ns()}"
threading.Timer(0.5, lambda: call("POST", f"/api/conversations/{conversation}/messages", {"text": prompt})).start()
frames, text, event = [], "", None
for raw in feed:
    line = raw.decode().rstrip("\n")
    if line.startswith("event: "):
        event = line[7:]
    elif line.startswith("data: ") and event == "TextAppended":
        delta = json.loads(line[6:])["event"]["TextAppended"]["text"]
        frames.append(time.monotonic()); text += delta
    elif line.startswith("data: ") and event in ("TurnCompleted", "TurnFailed"):
        if event == "TurnFailed": sys.exit(f"the turn failed: {line[6:500]}")
        break
expected = urllib.request.urlopen(urllib.request.Request(f"{base}/api/conversations/{conversation}", headers=auth), timeout=30)
view = json.loads(expected.read())
stored = "".join(b.get("text") or "" for b in view["messages"][-1]["blocks"] if b["type"] == "text")
if len(frames) < 10: sys.exit(f"only {len(frames)} text frames: not streamed token by token")
if frames[-1] - frames[0] < 0.1: sys.exit("every frame arrived at once: buffered, not streamed")
if text != stored or not text.strip(): sys.exit(f"the streamed text is not the stored reply: {text[:80]!r} vs {stored[:80]!r}")
print(f"[compose-test]      {len(frames)} text frames over {frames[-1] - frames[0]:.2f} s, {len(text)} characters, equal to the stored reply")
PY

step "3d. the maintenance page while the app container is stopped"
compose stop pocket-dev-app >/dev/null
body="$(curl -s -u "$USER_NAME:$PASSWORD" -w '\n%{http_code}' --max-time 10 "$BASE/")"
status="${body##*$'\n'}"
[ "$status" = 503 ] || fail "the page is $status while the app is stopped, not 503"
grep -qi "maintenance\|back soon\|restarting" <<<"$body" || fail "the 503 is not the maintenance page"
compose start pocket-dev-app >/dev/null
compose up -d --wait --wait-timeout 180 >/dev/null || fail "the app did not come back healthy"
[ "$(code -u "$USER_NAME:$PASSWORD" "$BASE/api/conversations")" = 200 ] || fail "the app does not answer through the proxy after its restart"

step "done"
