#!/usr/bin/env bash
# scripts/build.sh — the build of PocketDev: the server binary and the site it serves (target/site).
#
# Owns the build pipeline, the steps cargo-leptos would run, without its 13-minute install:
#   1. the hydrate WASM: cargo build -p frontend --lib for wasm32-unknown-unknown in target/front
#      (profile wasm-release when releasing: opt-level z, LTO, one codegen unit, abort on panic);
#   2. wasm-bindgen --target web into target/site/pkg as pocket-dev.js + pocket-dev.wasm (the name leptos's
#      hydration scripts ask for), then, when releasing, wasm-opt -Oz and the JS minified by terser;
#      skipped when the WASM is byte-identical to the one the current output came from;
#   3. style/main.css through Lightning CSS for the browserslist query `defaults` (minified when releasing)
#      into target/site/pkg/pocket-dev.css;
#   4. public/ mirrored into target/site (the pkg directory kept);
#   5. the server: cargo build -p server --bin pocket-dev → target/{debug,release}/pocket-dev.
# Both cargo builds get RUSTFLAGS="--cfg erase_components" (every view type-erased: the WASM a fifth smaller,
# docs/BENCHMARKS.md "Gzipped WASM") and LEPTOS_OUTPUT_NAME=pocket-dev (leptos reads it at compile time).
# The tools: cargo, wasm-bindgen (scripts/setup.sh installs the version Cargo.lock pins), and the npm tools of
# tools/ (wasm-opt from binaryen.js: Debian's binaryen breaks hydration; lightningcss; terser).
#
# Usage: scripts/build.sh [--release]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '[build] %s\n' "$*"; }
die() { printf '[build] ERROR: %s\n' "$*" >&2; exit 1; }

RELEASE=0
case "${1:-}" in
  "") ;;
  --release) RELEASE=1 ;;
  -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "usage: scripts/build.sh [--release]" ;;
esac

NAME=pocket-dev
SITE="$ROOT/target/site"
PKG="$SITE/pkg"
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export LEPTOS_OUTPUT_NAME="$NAME"
export RUSTFLAGS="--cfg erase_components"
for tool in cargo wasm-bindgen wasm-opt lightningcss terser; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/setup.sh"
done
if [ "$RELEASE" = 1 ]; then
  wasm_profile=(--profile wasm-release) wasm_dir=wasm-release bin_profile=(--release)
else
  wasm_profile=() wasm_dir=debug bin_profile=()
fi
t0=$SECONDS

say "1. the hydrate WASM (frontend, ${wasm_dir})"
cargo build -p frontend --lib --target wasm32-unknown-unknown --target-dir target/front "${wasm_profile[@]}"
wasm="$ROOT/target/front/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
[ -s "$wasm" ] || die "$wasm missing after the build"

mkdir -p "$PKG"
stamp="$ROOT/target/front/site-built-from"   # outside the site: not served
want="$wasm_dir $(sha256sum "$wasm" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -s "$PKG/$NAME.wasm" ] && [ -s "$PKG/$NAME.js" ]; then
  say "2. wasm-bindgen: the WASM is unchanged, its output kept"
else
  say "2. wasm-bindgen$([ "$RELEASE" = 1 ] && echo ', wasm-opt -Oz, terser')"
  rm -f "$stamp"
  wasm-bindgen --target web --no-typescript --out-name "$NAME" --out-dir "$PKG" "$wasm"
  mv "$PKG/${NAME}_bg.wasm" "$PKG/$NAME.wasm"
  if [ "$RELEASE" = 1 ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$PKG/$NAME.wasm" -o "$PKG/$NAME.wasm"
    terser "$PKG/$NAME.js" --module --compress --mangle --output "$PKG/$NAME.js.min"
    mv "$PKG/$NAME.js.min" "$PKG/$NAME.js"
  fi
  printf '%s\n' "$want" >"$stamp"
fi

say "3. the style (Lightning CSS, browsers: defaults)"
css_flags=(--targets defaults)
[ "$RELEASE" = 1 ] && css_flags+=(--minify)
lightningcss "${css_flags[@]}" style/main.css -o "$PKG/$NAME.css"

say "4. public/ → target/site"
find "$SITE" -mindepth 1 -maxdepth 1 ! -name pkg -exec rm -rf {} +
cp -R public/. "$SITE/"

say "5. the server (pocket-dev, $([ "$RELEASE" = 1 ] && echo release || echo debug))"
cargo build -p server --bin "$NAME" "${bin_profile[@]}"

for f in "$NAME.js" "$NAME.wasm" "$NAME.css"; do
  [ -s "$PKG/$f" ] || die "target/site/pkg/$f missing or empty"
done
say "built in $((SECONDS - t0)) s"
