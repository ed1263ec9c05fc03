#!/usr/bin/env bash
# scripts/shellcheck.sh — shellcheck (all severities, style included) and a syntax check over every shell
# script in the repository. The one place that owns that rule: ./test and scripts/check-deploy.sh call it.
#
# Which files: every file git tracks (`git ls-files`) that is a shell script, found by content rather than
# by a hand list: a `#!` line naming sh, bash, dash or ksh (directly or through env), or else a name
# ending in .sh or .bash. New scripts are checked without editing this file.
# Each file is parsed by its own shell (`bash -n`, or `sh -n` for #!/bin/sh), then shellcheck runs over all
# of them at once (-x: files they source are followed). Exit status: non-zero on any finding.
#
# Environment:
#   SHELLCHECK=/path/to/shellcheck   the binary to use (scripts/check-deploy.sh passes its pinned PyPI one);
#                                     default: `shellcheck` on PATH, installed from apt when missing
#   PD_SKIP_APT=1                     don't apt-get install shellcheck when it is missing (fail instead)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[shellcheck] %s\n' "$*"; }
die() { printf '[shellcheck] ERROR: %s\n' "$*" >&2; exit 1; }

SC="${SHELLCHECK:-shellcheck}"
if ! command -v "$SC" >/dev/null 2>&1; then
  [ -z "${SHELLCHECK:-}" ] || die "SHELLCHECK=$SHELLCHECK is not an executable"
  [ "${PD_SKIP_APT:-}" != 1 ] || die "shellcheck is not installed (PD_SKIP_APT=1: not installing it)"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "shellcheck is not installed, and not root and no sudo: install it yourself"
    SUDO=(sudo)
  fi
  say "installing shellcheck from apt"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q shellcheck
fi

# shell_of FILE: the shell that runs FILE (bash, sh, ...), or nothing when FILE is not a shell script.
shell_of() {
  local first interp
  IFS= read -r first <"$1" 2>/dev/null || first=""
  if [[ "$first" == '#!'* ]]; then
    read -r -a interp <<<"${first#'#!'}"
    interp=("${interp[@]##*/}")
    if [ "${interp[0]:-}" = env ]; then interp=("${interp[@]:1}"); fi
    [ "${interp[0]:-}" != -S ] || interp=("${interp[@]:1}")
    case "${interp[0]:-}" in
      sh|bash|dash|ksh) echo "${interp[0]}" ;;
    esac
    return 0
  fi
  case "$1" in
    *.sh) echo sh ;;
    *.bash) echo bash ;;
  esac
}

FILES=() SHELLS=()
while IFS= read -r -d '' f; do
  if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
  s="$(shell_of "$f")"
  [ -n "$s" ] || continue
  FILES+=("$f"); SHELLS+=("$s")
done < <(git ls-files -z)
[ "${#FILES[@]}" -gt 0 ] || die "git ls-files found no shell script (not in a git checkout?)"

failed=0
for i in "${!FILES[@]}"; do
  parser="${SHELLS[$i]}"
  # dash, ksh: checked with sh -n if that shell is not installed (sh is POSIX here)
  command -v "$parser" >/dev/null 2>&1 || parser="sh"
  "$parser" -n "${FILES[$i]}" || { say "FAIL  $parser -n ${FILES[$i]}"; failed=1; }
done

say "$("$SC" --version | sed -n 2p) over ${#FILES[@]} scripts (git ls-files + shebang):"
for i in "${!FILES[@]}"; do printf '[shellcheck]   %-5s %s\n' "${SHELLS[$i]}" "${FILES[$i]}"; done
"$SC" --severity=style --external-sources "${FILES[@]}" || failed=1

if [ "$failed" -ne 0 ]; then
  die "findings above (fix the script; a disable comment only with its reason on the same line)"
fi
say "ok: ${#FILES[@]} scripts, no findings"
