#!/usr/bin/env bash
# scripts/bench.sh — runs the benchmarks (docs/BENCHMARKS.md) in release mode against the private
# Postgres and Redis.
#   scripts/bench.sh            pipeline: relay overhead, append latency vs history, replay, idle RSS, import
#   scripts/bench.sh anchors    the anchors (issue 9): first-token overhead direct / via nginx / claude_code,
#                               1-10-100 concurrent streams, 1,000 idle subscribers, 10,000-message open, WASM
#   scripts/bench.sh anchors first nginx   only some sections (first nginx claude concurrency idle open wasm)
#   scripts/bench.sh gate       the regression gate `./test bench` runs (server/benches/gate.rs): append and turn
#                               growth ratios, idle RSS, 100 streams, 1,000 idle subscribers; exits 1 on a miss
#   scripts/bench.sh cloudcli   CloudCLI from npm (in /tmp, never committed), same CLI and mock: time to first text
#                               (`anchors` runs it too when its claude rows run, for the overhead ratio;
#                               a full `anchors` run rewrites the table in docs/BENCHMARKS.md between its markers)
# A full anchors run, or one naming `open` or `wasm`, first runs `scripts/build.sh --release` (it runs wasm-opt -Oz
# from tools/node_modules/.bin, npm binaryen 132), so the site matches the server; BENCH_WASM=1 forces it.
# BENCH_TURNS=N sets the number of first-token turns (default 30; the claude_code rows use N/3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
scripts/services.sh start
eval "$(scripts/services.sh env)"
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export LEPTOS_OUTPUT_NAME=pocket-dev   # read by leptos at compile time; must match scripts/build.sh
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true   # 1,000 idle SSE subscribers need the descriptors
BENCH="${1:-pipeline}"
[ $# -gt 0 ] && shift
# Runs a cargo command with the `--cfg erase_components` of scripts/build.sh: a server built without it
# (`cargo bench` rebuilds target/release/pocket-dev too) renders un-erased views that the site's WASM
# cannot hydrate.
erased() { RUSTFLAGS="--cfg erase_components" "$@"; }
# CloudCLI's submit -> first text: prints {"turns":N,"p50":MS,...} on stdout (progress on stderr).
cloudcli() {
  # CloudCLI (@cloudcli-ai/cloudcli from npm) in a temporary folder, never in the repository, driving the
  # same pinned `claude` CLI against the same mock: time from chat.send to the first assistant text.
  DIR="${CLOUDCLI_DIR:-/tmp/pd-bench-cloudcli}"
  mkdir -p "$DIR/home" "$DIR/project"
  # Pinned, so two runs compare the same CloudCLI (BENCH_CLOUDCLI_VERSION picks another).
  local version="${BENCH_CLOUDCLI_VERSION:-1.37.3}"
  if [ "$(node -p "require('$DIR/node_modules/@cloudcli-ai/cloudcli/package.json').version" 2>/dev/null)" != "$version" ]; then
    (cd "$DIR" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "@cloudcli-ai/cloudcli@$version" >/dev/null)
  fi
  cat > "$DIR/drive.mjs" <<'DRIVE'
// Drives CloudCLI headlessly: register, create a claude session, send N prompts over its websocket,
// time submit -> first message carrying assistant text. Usage: node drive.mjs <base> <turns> <project dir>
import WebSocket from 'ws';
const base = process.argv[2]; const turns = Number(process.argv[3] || 5); const project = process.argv[4];
const j = async (path, body, token) => {
  const r = await fetch(base + path, { method: body ? 'POST' : 'GET', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const t = await r.text(); try { return { status: r.status, json: JSON.parse(t) }; } catch { return { status: r.status, text: t }; }
};
let reg = await j('/api/auth/register', { username: 'bench', password: 'bench-password-123' });
if (!reg.json?.token) reg = await j('/api/auth/login', { username: 'bench', password: 'bench-password-123' });
console.error('auth', reg.status, JSON.stringify(reg.json ?? reg.text).slice(0, 200));
const token = reg.json?.token ?? reg.json?.data?.token;
const results = [];
for (let n = 0; n < turns; n++) {
  const s = await j('/api/providers/sessions', { provider: 'claude', projectPath: project, initialMessage: '' }, token);
  const sessionId = s.json?.data?.sessionId ?? s.json?.data?.id ?? s.json?.data?.session?.id;
  if (!sessionId) { console.error('session', s.status, JSON.stringify(s.json ?? s.text).slice(0, 300)); process.exit(1); }
  const ws = new WebSocket(base.replace('http', 'ws') + '/ws?token=' + token);
  await new Promise((ok, err) => { ws.on('open', ok); ws.on('error', err); });
  const started = performance.now();
  const first = await new Promise((ok) => {
    const timer = setTimeout(() => ok(null), 60000);
    ws.on('message', (raw) => {
      const s = raw.toString();
      if (process.env.DEBUG) console.error(s.slice(0, 300));
      if (/"kind":"text","role":"assistant"/.test(s)) { clearTimeout(timer); ok(performance.now() - started); }
    });
    ws.send(JSON.stringify({ type: 'chat.send', sessionId, content: `bench ${n} [[mock tokens=200 rate=200 delay_ms=0]]`, options: { cwd: project, projectPath: project } }));
  });
  ws.close();
  console.error('turn', n, first);
  if (first !== null) results.push(first);
}
if (results.length === 0) { console.error('no turn of CloudCLI produced text'); process.exit(1); }
if (results.length < turns) { console.error(`${turns - results.length} of ${turns} CloudCLI turns produced no text`); process.exit(1); }
results.sort((a, b) => a - b);
console.log(JSON.stringify({ turns: results.length, p50: results[Math.floor((results.length - 1) / 2)], all: results }));
DRIVE
  MOCK_PORT=47121; CLOUD_PORT=47122
  MOCK_LLM_ADDR=127.0.0.1:$MOCK_PORT "$ROOT/target/release/pocket-dev" mock-llm >"$DIR/mock.log" 2>&1 &
  MOCK_PID=$!
  HOME="$DIR/home" SERVER_PORT=$CLOUD_PORT HOST=127.0.0.1 DATABASE_PATH="$DIR/home/db.sqlite" \
    CLAUDE_CLI_PATH="$ROOT/tools/node_modules/.bin/claude" ANTHROPIC_BASE_URL=http://127.0.0.1:$MOCK_PORT ANTHROPIC_API_KEY=test-key \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 \
    node "$DIR/node_modules/@cloudcli-ai/cloudcli/dist-server/server/index.js" >"$DIR/server.log" 2>&1 &
  CLOUD_PID=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$CLOUD_PORT/" && break; sleep 0.3; done
  local rc=0
  (cd "$DIR" && node drive.mjs "http://127.0.0.1:$CLOUD_PORT" "${BENCH_CLOUDCLI_TURNS:-10}" "$DIR/project") || rc=$?
  kill "$MOCK_PID" "$CLOUD_PID" 2>/dev/null || true
  wait "$MOCK_PID" "$CLOUD_PID" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    # A comparison with a tool that did not run is no comparison: say so and stop.
    echo "[bench] CloudCLI did not run (exit $rc); the last lines of $DIR/server.log:" >&2
    tail -n 30 "$DIR/server.log" >&2 || true
    echo "[bench] BENCH_CLOUDCLI=0 leaves the CloudCLI comparison out" >&2
    exit 1
  fi
}
# The browser and WASM rows need the site built with the server they run against, in one build: a page
# whose WASM came from another build can fail to hydrate (the open row then prints NaN and the page's
# errors). Always for a full run or those sections; BENCH_WASM=1 forces it for any run.
if [ "${BENCH_WASM:-0}" = 1 ] || { [ "$BENCH" = anchors ] && { [ $# -eq 0 ] || [[ " $* " == *" open "* ]] || [[ " $* " == *" wasm "* ]]; }; }; then
  scripts/build.sh --release
fi
erased cargo build --release -p server --bin pocket-dev
export PD_BIN="$ROOT/target/release/pocket-dev"
export CLAUDE_BIN="${CLAUDE_BIN:-$ROOT/tools/node_modules/.bin/claude}"
if [ "$BENCH" = gate ]; then
  erased cargo bench -p server --bench gate -- "$@"
  exit 0
fi
if [ "$BENCH" = cloudcli ]; then
  cloudcli
  exit 0
fi
if [ "$BENCH" = anchors ]; then
  # The claude rows compare against CloudCLI measured now, on the same machine (BENCH_CLOUDCLI=0 skips it).
  if { [ $# -eq 0 ] || [[ " $* " == *" claude "* ]]; } && [ "${BENCH_CLOUDCLI:-1}" = 1 ]; then
    CLOUDCLI_JSON="$(cloudcli | tail -n 1)" || exit 1
    BENCH_CLOUDCLI_MS="$(printf '%s' "$CLOUDCLI_JSON" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const p=JSON.parse(s).p50;if(p)console.log(Math.round(p))}catch{}})')"
    [ -n "$BENCH_CLOUDCLI_MS" ] || { echo "[bench] CloudCLI printed no median: $CLOUDCLI_JSON" >&2; exit 1; }
    export BENCH_CLOUDCLI_MS
  fi
  OUT="$(mktemp)"
  erased cargo bench -p server --bench anchors -- "$@" | tee "$OUT"
  # A full run (no sections named) rewrites the table in docs/BENCHMARKS.md between its markers.
  if [ $# -eq 0 ]; then
    # shellcheck disable=SC2016 # JavaScript, not shell
    node -e '
      const fs = require("fs"); const [doc, out, when] = process.argv.slice(1);
      const rows = fs.readFileSync(out, "utf8").split("\n").filter((l) => l.startsWith("|")).join("\n");
      const text = fs.readFileSync(doc, "utf8");
      const begin = "<!-- anchors:begin -->", end = "<!-- anchors:end -->";
      const i = text.indexOf(begin), j = text.indexOf(end);
      if (i < 0 || j < i) { console.error("no anchors markers in " + doc); process.exit(1); }
      fs.writeFileSync(doc, text.slice(0, i + begin.length) + "\n_Regenerated by `scripts/bench.sh anchors` on " + when + "._\n\n" + rows + "\n" + text.slice(j));
    ' "$ROOT/docs/BENCHMARKS.md" "$OUT" "$(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD)"
    echo "[bench] docs/BENCHMARKS.md: anchors table rewritten"
  fi
  rm -f "$OUT"
  exit 0
fi
erased cargo bench -p server --bench "$BENCH" -- "$@"
