#!/usr/bin/env bash
# scripts/setup.sh — idempotent installer of everything PocketDev needs to build, run and test.
#
# Owns: system packages (postgresql, redis-server, nginx, chromium, apache2-utils, curl, node/npm if absent),
#       the wasm32-unknown-unknown rustup target, wasm-bindgen-cli (exact version from Cargo.lock),
#       tools/node_modules (binaryen.js wasm-opt, lightningcss, terser, the Claude Code CLI) and
#       end2end/node_modules (@playwright/test): what scripts/build.sh calls.
# Installs only what is missing; when everything is present it finishes in well under 2 s.
#
# Environment:
#   PD_SKIP_CARGO_TOOLS=1   don't `cargo install` wasm-bindgen-cli (only report its state)
#   PD_SKIP_APT=1           don't apt-get install missing system packages (only report them)
#
# Traps handled here (see /work/shared/reference/leptos-build-recipe.md):
#   - no cargo-leptos: scripts/build.sh runs its steps, which saves its 13-minute install on every fresh
#     machine and in every fresh Docker build.
#   - the wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock; `--locked` fails for 0.2.130.
#   - never apt-get install binaryen: Debian's wasm-opt 108 produces wasm that fails to hydrate.
#   - Playwright must not download a browser: Debian's /usr/bin/chromium is used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="$HOME/.cargo/bin:$PATH"

say()  { printf '[setup] %s\n' "$*"; }
die()  { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO=(sudo); fi
fi

# ---------------------------------------------------------------- system packages (apt)
missing_pkgs=()
# binary check -> Debian package
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing_pkgs+=(postgresql)
have psql                                   || missing_pkgs+=(postgresql-client)
have redis-server && have redis-cli         || missing_pkgs+=(redis-server)
{ have nginx || [ -x /usr/sbin/nginx ]; }   || missing_pkgs+=(nginx)
have chromium                               || missing_pkgs+=(chromium)
{ have htpasswd || [ -x /usr/bin/htpasswd ]; } || missing_pkgs+=(apache2-utils)
have curl                                   || missing_pkgs+=(curl)
have python3                                || missing_pkgs+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing_pkgs+=(python3-venv)   # scripts/schemathesis.sh
{ have node && have npm; }                  || missing_pkgs+=(nodejs npm)

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if [ "${PD_SKIP_APT:-}" = 1 ]; then
    say "missing system packages (PD_SKIP_APT=1, not installing): ${missing_pkgs[*]}"
  else
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
      die "missing system packages: ${missing_pkgs[*]} — not root and no sudo; install them yourself"
    fi
    say "installing system packages: ${missing_pkgs[*]}"
    # DPkg::Lock::Timeout waits for another apt/dpkg run instead of failing at once.
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing_pkgs[@]}"
  fi
else
  say "system packages: ok (postgresql, redis, nginx, chromium, apache2-utils, curl, node $(node --version))"
fi

# ---------------------------------------------------------------- Rust toolchain pieces
have cargo  || die "cargo not found (expected the rustup toolchain in ~/.cargo/bin)"
have rustup || die "rustup not found (needed for the wasm32-unknown-unknown target)"

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "rustup target wasm32-unknown-unknown: ok"
else
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly: schema check)
lock_wasm_bindgen_version() {
  [ -f Cargo.lock ] || return 1
  if have python3 && python3 -c 'import tomllib' 2>/dev/null; then
    python3 - <<'PY'
import tomllib
with open("Cargo.lock", "rb") as f:
    pkgs = tomllib.load(f).get("package", [])
vs = [p["version"] for p in pkgs if p["name"] == "wasm-bindgen"]
if not vs:
    raise SystemExit(1)
print(vs[0])
PY
  else
    awk '/^name = "wasm-bindgen"$/ {f=1; next} f && /^version = / {gsub(/"/,"",$3); print $3; exit} /^\[\[package\]\]/ {f=0}' Cargo.lock
  fi
}

wb_want="$(lock_wasm_bindgen_version || true)"
wb_have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ -z "$wb_want" ]; then
  say "WARNING: no wasm-bindgen in Cargo.lock (run a cargo build/generate-lockfile first); skipping wasm-bindgen-cli"
elif [ "$wb_have" = "$wb_want" ]; then
  say "wasm-bindgen-cli $wb_have: ok (matches Cargo.lock)"
elif [ "${PD_SKIP_CARGO_TOOLS:-}" = 1 ]; then
  say "wasm-bindgen-cli is '${wb_have:-absent}', Cargo.lock wants $wb_want (PD_SKIP_CARGO_TOOLS=1: not installing)"
else
  say "installing wasm-bindgen-cli $wb_want (found '${wb_have:-none}')"
  # --locked fails for 0.2.130 (its lock pins webpki-roots 1.0.11, absent from crates.io): retry unlocked.
  cargo install wasm-bindgen-cli --version "$wb_want" --locked --force \
    || { say "--locked install failed; retrying unlocked"; cargo install wasm-bindgen-cli --version "$wb_want" --force; }
fi

# ---------------------------------------------------------------- npm packages
# `npm ci` only when node_modules doesn't match package-lock.json (stamp = sha256 of the lock).
npm_ci_dir() { # dir, label, extra env...
  local dir="$1" label="$2"; shift 2
  [ -f "$dir/package-lock.json" ] || die "$dir/package-lock.json missing (run: cd $dir && npm install)"
  local want stamp="$dir/node_modules/.pocketdev-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | awk '{print $1}')"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "$label: ok"
  else
    say "$label: npm ci in $dir"
    (cd "$dir" && env "$@" npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$want" >"$stamp"
  fi
}
npm_ci_dir tools   "tools/node_modules (wasm-opt, lightningcss, terser, claude)"
npm_ci_dir end2end "end2end/node_modules (@playwright/test)" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

for tool in wasm-opt lightningcss terser; do
  [ -x "tools/node_modules/.bin/$tool" ] || die "tools/node_modules/.bin/$tool missing after npm ci"
done

say "done"
