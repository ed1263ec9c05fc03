#!/usr/bin/env python3
"""deploy/checks/check_dockerfiles.py — the Dockerfile checklist (run by scripts/check-deploy.sh after hadolint).

Usage: check_dockerfiles.py [--root DIR]

hadolint covers the generic Dockerfile rules. This checklist covers them again in plain terms (so the
check still means something if hadolint's rules change) and adds what only this project knows:

Both Dockerfiles (Dockerfile, deploy/proxy/Dockerfile):
  - every base image has an explicit tag, never `latest`;  - COPY, never ADD;
  - apt-get install: -y, --no-install-recommends, after apt-get update and before rm -rf /var/lib/apt/lists
    in the same RUN;  - no remote script piped into a shell;  - no sudo, no chmod 777;
  - no secret in ENV or ARG (by name or by value);  - a HEALTHCHECK in the final stage;
  - ENTRYPOINT and CMD in exec (JSON) form;  - every COPY source exists and is in the build context
    (.dockerignore), and .dockerignore keeps .env, .data/, target/ and node_modules/ out (and a note
    when git does not ignore .env).
The app image (Dockerfile):
  - a build stage on rust:<version>-bookworm and a runtime stage on debian:bookworm-slim, Node.js 22;
  - every build step is a script CI runs: scripts/setup.sh and scripts/build-release.sh; no cargo in RUN;
  - every file the build needs is in the build context (workspace members, Cargo.lock, migrations, …);
  - runs as a non-root user whose UID/GID come from the USER_ID/GROUP_ID build args;
  - the Claude Code CLI version equals tools/package.json's; git, gh and Node.js 22 are installed;
  - build-release.sh hands its output over in PD_RELEASE_OUT (target/ is a BuildKit cache mount);
  - the binary, site (/app/site = WORKDIR + LEPTOS_SITE_ROOT) and migrations are copied, the Leptos
    runtime variables are set, entrypoint and healthcheck are deploy/app's scripts (executable).
The proxy image (deploy/proxy/Dockerfile):
  - nginx:<version> base; deploy/proxy/ copied; its entrypoint.sh is the ENTRYPOINT; /health healthcheck.
  - The nginx master runs as root (it binds NGINX_PORT, workers drop privileges): exempt from the USER rule.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

SECRET_NAME = re.compile(r"(PASS|SECRET|TOKEN|API_KEY|PRIVATE|_KEY$)", re.I)
SECRET_VALUE = re.compile(r"(sk-ant-|sk-[A-Za-z0-9]{20,}|ghp_|github_pat_|AKIA[0-9A-Z]{16})")


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int
    stage: int


def parse(text: str) -> list[Instruction]:
    """Dockerfile instructions with continuation lines joined and comment lines dropped."""
    out, stage, buf, start = [], -1, "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped by Docker too
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        keyword, _, args = buf.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), start, stage))
        buf = ""
    return out


def global_args(instructions: list[Instruction]) -> dict:
    values = {}
    for ins in instructions:
        if ins.stage >= 0:
            break
        if ins.keyword == "ARG" and "=" in ins.args:
            name, value = ins.args.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def stage_args(instructions: list[Instruction], stage: int) -> dict:
    values = {}
    for ins in instructions:
        if ins.stage == stage and ins.keyword == "ARG" and "=" in ins.args:
            name, value = ins.args.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def substitute(text: str, values: dict) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


def from_image(ins: Instruction, args: dict) -> tuple[str, str | None]:
    words = [w for w in ins.args.split() if not w.startswith("--")]
    image = substitute(words[0], args)
    name, alias = image, (words[2] if len(words) >= 3 and words[1].upper() == "AS" else None)
    return name, alias


def copy_sources(ins: Instruction) -> list[str]:
    if ins.args.startswith("["):
        parts = json.loads(ins.args)
    else:
        parts = shlex.split(ins.args)
    parts = [p for p in parts if not p.startswith("--")]
    return parts[:-1]


# ---------------------------------------------------------------- .dockerignore (moby patternmatcher semantics)
def ignore_patterns(text: str) -> list[tuple[re.Pattern, bool]]:
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:].strip() if negate else line
        line = line.strip("/")
        regex, i = "", 0
        while i < len(line):
            if line.startswith("**/", i):
                regex += "(?:.*/)?"; i += 3
            elif line.startswith("**", i):
                regex += ".*"; i += 2
            elif line[i] == "*":
                regex += "[^/]*"; i += 1
            elif line[i] == "?":
                regex += "[^/]"; i += 1
            else:
                regex += re.escape(line[i]); i += 1
        patterns.append((re.compile(regex + r"\Z"), negate))
    return patterns


def ignored(path: str, patterns) -> bool:
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for regex, negate in patterns:
        if any(regex.match(c) for c in candidates):
            result = not negate
    return result


# ---------------------------------------------------------------- checks
class Report:
    def __init__(self, quiet: bool = False):
        self.failures: list[str] = []
        self.quiet = quiet

    def ok(self, message):
        if not self.quiet:
            print(f"  ok    {message}")

    def fail(self, message):
        self.failures.append(message)
        if not self.quiet:
            print(f"  FAIL  {message}")

    def note(self, message):
        if not self.quiet:
            print(f"  NOTE  {message}")

    def check(self, condition, ok_message, fail_message):
        (self.ok if condition else self.fail)(ok_message if condition else fail_message)


def check_generic(name: str, ins: list[Instruction], root: Path, patterns, r: Report):
    args = global_args(ins)
    froms = [i for i in ins if i.keyword == "FROM"]
    aliases = set()
    for f in froms:
        image, alias = from_image(f, args)
        if alias:
            aliases.add(alias)
        if image in aliases:
            continue
        tag = image.split("@")[0].rsplit(":", 1)[1] if ":" in image.split("/")[-1] else None
        r.check(bool(tag) and tag != "latest" and "$" not in tag, f"{name}:{f.line} base image {image} has a pinned tag",
                f"{name}:{f.line} base image {image} needs an explicit tag other than latest")
    adds = [i.line for i in ins if i.keyword == "ADD"]
    r.check(not adds, f"{name}: COPY only, no ADD", f"{name}: ADD at lines {adds}; use COPY")
    for run in (i for i in ins if i.keyword == "RUN"):
        text = run.args
        if re.search(r"apt-get\s+(-\S+\s+)*install", text):
            good = ("-y" in text.split() or "--yes" in text) and "--no-install-recommends" in text \
                and re.search(r"apt-get\s+(-\S+\s+)*update.*apt-get\s+(-\S+\s+)*install", text) \
                and re.search(r"install.*rm -rf /var/lib/apt/lists", text)
            r.check(bool(good), f"{name}:{run.line} apt-get update+install -y --no-install-recommends, lists removed",
                    f"{name}:{run.line} apt-get install needs update first, -y, --no-install-recommends and "
                    "rm -rf /var/lib/apt/lists/* in the same RUN")
        if re.search(r"(curl|wget)[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b", text):
            r.fail(f"{name}:{run.line} pipes a downloaded script into a shell")
        if re.search(r"\bsudo\b|chmod\s+(-R\s+)?777", text):
            r.fail(f"{name}:{run.line} uses sudo or chmod 777")
    before = len(r.failures)
    for i in ins:
        if i.keyword in ("ENV", "ARG"):
            pairs = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", i.args) if "=" in i.args else [(i.args.split()[0], " ".join(i.args.split()[1:]))]
            for var, value in pairs:
                if SECRET_NAME.search(var) or SECRET_VALUE.search(value or ""):
                    r.fail(f"{name}:{i.line} {i.keyword} {var}: secrets must come from the environment at run time, not the image")
    if len(r.failures) == before:
        r.ok(f"{name}: no secret-like names or values in ENV/ARG")
    last = max(i.stage for i in ins)
    health = [i for i in ins if i.keyword == "HEALTHCHECK" and i.stage == last]
    r.check(bool(health) and not health[-1].args.upper().startswith("NONE"),
            f"{name}: HEALTHCHECK in the final stage", f"{name}: the final stage needs a HEALTHCHECK")
    for keyword in ("ENTRYPOINT", "CMD"):
        for i in (x for x in ins if x.keyword == keyword):
            try:
                ok = isinstance(json.loads(i.args), list)
            except json.JSONDecodeError:
                ok = False
            r.check(ok, f"{name}:{i.line} {keyword} in exec form", f"{name}:{i.line} {keyword} must be a JSON array")
    for i in (x for x in ins if x.keyword == "COPY" and "--from=" not in x.args):
        for source in copy_sources(i):
            path = (root / source).resolve()
            inside = str(path).startswith(str(root.resolve()))
            exists = path.exists()
            excluded = source.strip("/") not in ("", ".") and ignored(source.rstrip("/"), patterns)
            r.check(inside and exists and not excluded, f"{name}:{i.line} COPY {source}: exists, in the build context",
                    f"{name}:{i.line} COPY {source}: " + ("missing from the repository" if not exists else
                                                         "excluded by .dockerignore" if excluded else "outside the context"))


def check_env_not_committed(root: Path, r: Report):
    """`cp .env.example .env` must not end up in git: .env should be git-ignored (a note, not a failure)."""
    try:
        ignored_by_git = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", ".env"], timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return
    if ignored_by_git:
        r.ok(".gitignore keeps .env (secrets) out of git")
    else:
        r.note(".env is not in .gitignore: a `cp .env.example .env` could be committed with its secrets; add `.env` to .gitignore")


def check_dockerignore(root: Path, patterns, r: Report):
    for path in (".env", ".data/pg/PG_VERSION", "target/release/pocket-dev", "tools/node_modules/terser/package.json",
                 "end2end/node_modules/x", ".git/HEAD", "deploy/checks/node_modules/x"):
        r.check(ignored(path, patterns), f".dockerignore keeps {path} out of the build context",
                f".dockerignore must exclude {path}")
    # everything the build stage's `COPY . .` needs for `scripts/build.sh --release`
    cargo = tomllib.loads((root / "Cargo.toml").read_text())
    members = cargo["workspace"]["members"]
    needed = ["Cargo.toml", "Cargo.lock", "migrations", "config/models.json", "scripts/setup.sh", "scripts/build-release.sh", "scripts/build.sh",
              "tools/package.json", "tools/package-lock.json", "end2end/package.json", "end2end/package-lock.json",
              "style/main.css", "public", "deploy/app/entrypoint.sh", "deploy/app/healthcheck.sh",
              "deploy/proxy/Dockerfile"]
    needed += [f"{m}/Cargo.toml" for m in members] + [f"{m}/src" for m in members]
    excluded = [p for p in needed if ignored(p, patterns)]
    r.check(not excluded, f".dockerignore lets in all {len(needed)} build inputs (workspace members: {', '.join(members)})",
            f".dockerignore excludes build inputs: {excluded}")


def check_app(ins: list[Instruction], root: Path, r: Report):
    name = "Dockerfile"
    args = global_args(ins)
    stages = {}
    for f in (i for i in ins if i.keyword == "FROM"):
        image, alias = from_image(f, args)
        stages[f.stage] = (image, alias)
    last = max(stages)
    runtime_image = stages[last][0]
    r.check(len(stages) >= 2, f"{name}: multi-stage ({len(stages)} stages: {', '.join(a or i for i, a in stages.values())})",
            f"{name}: must be multi-stage")
    r.check(runtime_image == "debian:bookworm-slim", f"{name}: runtime on {runtime_image}",
            f"{name}: the runtime stage must be debian:bookworm-slim, not {runtime_image}")
    build = [s for s, (img, alias) in stages.items() if alias == "build"]
    build_image = stages[build[0]][0] if build else ""
    r.check(bool(re.fullmatch(r"rust:\d+\.\d+(\.\d+)?-bookworm", build_image)), f"{name}: build stage on {build_image}",
            f"{name}: the build stage (AS build) must be rust:<version>-bookworm: {build_image!r}")
    node = [img for img, _ in stages.values() if img.startswith("node:")]
    r.check(bool(node) and node[0].startswith("node:22"), f"{name}: Node.js from {node[0] if node else '?'}",
            f"{name}: Node.js must come from a node:22 image")
    runs = [i for i in ins if i.keyword == "RUN"]
    build_runs = [i.args for i in runs if build and i.stage == build[0]]
    def runs_script(args: str, script: str) -> bool:
        words = [w for w in args.split() if not w.startswith("--mount=")]
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            words.pop(0)  # VAR=value prefixes
        return words == [script]
    r.check(any(runs_script(a, "scripts/setup.sh") for a in build_runs)
            and any(runs_script(a, "scripts/build-release.sh") for a in build_runs),
            f"{name}: the build stage runs scripts/setup.sh and scripts/build-release.sh (what CI runs)",
            f"{name}: the build stage must RUN scripts/setup.sh and scripts/build-release.sh")
    cargo_runs = [i.line for i in runs
                  if re.search(r"(^|[;&|(]|\s)cargo\s", " ".join(w for w in i.args.split() if not w.startswith("--mount=")))]
    r.check(not cargo_runs, f"{name}: no cargo command outside the scripts",
            f"{name}: RUN calls cargo directly at lines {cargo_runs}; put it in scripts/build-release.sh (CI runs that)")
    # non-root user from build args
    final_args = stage_args(ins, last)
    users = [i for i in ins if i.keyword == "USER" and i.stage == last]
    user = users[-1].args if users else "root"
    resolved = substitute(user, final_args)
    uid = resolved.split(":")[0]
    r.check(user.startswith("${USER_ID}") and uid not in ("", "0", "root") and user.endswith("${GROUP_ID}"),
            f"{name}: runs as USER {user} (default {resolved}), from the USER_ID/GROUP_ID build args",
            f"{name}: the final USER must be ${{USER_ID}}:${{GROUP_ID}} (non-root): {user}")
    useradd = " ".join(i.args for i in runs if i.stage == last and "useradd" in i.args)
    r.check('--uid "${USER_ID}"' in useradd and '--gid "${GROUP_ID}"' in useradd and "groupadd" in useradd,
            f"{name}: groupadd/useradd take USER_ID/GROUP_ID", f"{name}: useradd/groupadd must use USER_ID and GROUP_ID")
    # pinned Claude Code CLI = tools/package.json
    want = json.loads((root / "tools/package.json").read_text())["dependencies"]["@anthropic-ai/claude-code"]
    have = final_args.get("CLAUDE_CODE_VERSION")
    installs = any('@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}' in i.args for i in runs if i.stage == last)
    r.check(have == want and installs, f"{name}: Claude Code CLI {have} = tools/package.json ({want}), npm-installed",
            f"{name}: CLAUDE_CODE_VERSION ({have}) must equal tools/package.json ({want}) and be npm-installed")
    apt = " ".join(i.args for i in runs if i.stage == last and "apt-get" in i.args)
    for pkg in ("git", "gh", "curl", "ca-certificates", "tini"):
        r.check(re.search(rf"(?<![\w-]){re.escape(pkg)}(?![\w-])", apt) is not None, f"{name}: runtime installs {pkg}",
                f"{name}: the runtime stage must apt-get install {pkg}")
    copies = [i.args for i in ins if i.keyword == "COPY" and i.stage == last]
    out = re.search(r"PD_RELEASE_OUT=(\S+)\s+scripts/build-release.sh", " ".join(build_runs))
    r.check(bool(out), f"{name}: the build copies its output to PD_RELEASE_OUT={out.group(1) if out else '?'}",
            f"{name}: RUN scripts/build-release.sh needs PD_RELEASE_OUT=<dir> (target/ is a cache mount)")
    out_dir = out.group(1) if out else "/out"
    for source, dest in ((f"{out_dir}/pocket-dev", "/usr/local/bin/pocket-dev"), (f"{out_dir}/site", "/app/site"),
                         ("migrations", "/app/migrations"), ("deploy/app/entrypoint.sh", "/app/deploy/"),
                         ("deploy/app/healthcheck.sh", "/app/deploy/")):
        r.check(any(source in c and c.rstrip().endswith(dest) for c in copies), f"{name}: copies {source} -> {dest}",
                f"{name}: the runtime stage must COPY {source} to {dest}")
    env = {}
    for i in (x for x in ins if x.keyword == "ENV" and x.stage == last):
        env.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)", i.args))
    workdir = [i.args for i in ins if i.keyword == "WORKDIR" and i.stage == last]
    expected_env = {"LEPTOS_OUTPUT_NAME": "pocket-dev", "LEPTOS_SITE_ROOT": "site", "LEPTOS_SITE_PKG_DIR": "pkg",
                    "LEPTOS_SITE_ADDR": "0.0.0.0:3000", "WORKSPACE_ROOT": "/workspace", "HOME": "/home/pocketdev"}
    wrong = {k: env.get(k) for k, v in expected_env.items() if env.get(k) != v}
    r.check(not wrong and workdir[-1:] == ["/app"],
            f"{name}: ENV {', '.join(f'{k}={v}' for k, v in expected_env.items())}; WORKDIR /app (site root /app/site)",
            f"{name}: runtime ENV/WORKDIR wrong: {wrong}, WORKDIR {workdir[-1:]}")
    entrypoint = [i.args for i in ins if i.keyword == "ENTRYPOINT" and i.stage == last]
    health = [i.args for i in ins if i.keyword == "HEALTHCHECK" and i.stage == last]
    r.check(bool(entrypoint) and "/app/deploy/entrypoint.sh" in entrypoint[-1],
            f"{name}: ENTRYPOINT {entrypoint[-1] if entrypoint else ''}", f"{name}: ENTRYPOINT must run /app/deploy/entrypoint.sh")
    r.check(bool(health) and "/app/deploy/healthcheck.sh" in health[-1], f"{name}: HEALTHCHECK runs /app/deploy/healthcheck.sh",
            f"{name}: HEALTHCHECK must run /app/deploy/healthcheck.sh")
    for script in ("deploy/app/entrypoint.sh", "deploy/app/healthcheck.sh", "scripts/build-release.sh", "scripts/setup.sh"):
        mode = (root / script).stat().st_mode if (root / script).exists() else 0
        r.check(bool(mode & 0o111), f"{script} is executable (COPY keeps the mode)", f"{script} must be executable (chmod +x)")
    # the rust image and the toolchain CI builds with
    rust = re.match(r"rust:(\d+\.\d+)", build_image)
    try:
        local = subprocess.run(["rustc", "--version"], capture_output=True, text=True, timeout=30).stdout.split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        local = ""
    if rust and local and not local.startswith(rust.group(1)):
        r.note(f"{name}: the build image is {build_image} but CI's rustc is {local}; keep them in step")
    elif rust:
        r.ok(f"{name}: build image {build_image} matches CI's rustc {local}")


def check_proxy(ins: list[Instruction], root: Path, r: Report):
    name = "deploy/proxy/Dockerfile"
    args = global_args(ins)
    image = from_image([i for i in ins if i.keyword == "FROM"][-1], args)[0]
    r.check(re.fullmatch(r"nginx:\d+\.\d+(\.\d+)?(-[a-z]+)?", image) is not None, f"{name}: base {image}",
            f"{name}: base image must be nginx:<version>[-variant]: {image}")
    copies = [i.args for i in ins if i.keyword == "COPY"]
    r.check(any(c.split()[0] == "deploy/proxy/" for c in copies), f"{name}: copies deploy/proxy/ (template, entrypoint, maintenance page)",
            f"{name}: must COPY deploy/proxy/")
    entrypoint = [i.args for i in ins if i.keyword == "ENTRYPOINT"]
    r.check(bool(entrypoint) and "entrypoint.sh" in entrypoint[-1], f"{name}: ENTRYPOINT {entrypoint[-1] if entrypoint else ''}",
            f"{name}: ENTRYPOINT must be the proxy's entrypoint.sh")
    health = [i.args for i in ins if i.keyword == "HEALTHCHECK"]
    r.check(bool(health) and "/health" in health[-1], f"{name}: HEALTHCHECK GET /health", f"{name}: HEALTHCHECK must GET /health")
    proxy = root / "deploy/proxy"
    files = {"nginx.conf.template": proxy / "nginx.conf.template", "entrypoint.sh": proxy / "entrypoint.sh"}
    pages = sorted(p.name for p in proxy.glob("*.html")) if proxy.is_dir() else []
    missing = [n for n, p in files.items() if not p.exists()] + ([] if pages else ["maintenance page (*.html)"])
    if missing:
        r.note(f"deploy/proxy/ lacks {', '.join(missing)} (written for the security issue); the proxy image "
               "cannot be built until they exist")
    else:
        r.ok(f"deploy/proxy/ has nginx.conf.template, entrypoint.sh, {', '.join(pages)}")


def run_checks(root: Path, app_text: str, proxy_text: str, ignore_text: str, quiet: bool = False) -> list[str]:
    patterns = ignore_patterns(ignore_text)
    r = Report(quiet)
    if not patterns:
        r.fail(".dockerignore is missing or empty")
    app, proxy = parse(app_text), parse(proxy_text)
    for name, text in (("Dockerfile", app_text), ("deploy/proxy/Dockerfile", proxy_text)):
        r.check(not re.match(r"\s*#\s*syntax\s*=", text, re.I), f"{name} has no `# syntax=` directive (builds without a registry)",
                f"{name}: a `# syntax=` directive makes BuildKit fetch its frontend image from a registry before building")
    if not quiet:
        print("- Dockerfile (checklist)")
    check_generic("Dockerfile", app, root, patterns, r)
    check_app(app, root, r)
    if not quiet:
        print("- deploy/proxy/Dockerfile (checklist)")
    check_generic("deploy/proxy/Dockerfile", proxy, root, patterns, r)
    check_proxy(proxy, root, r)
    if not quiet:
        print("- .dockerignore")
    check_dockerignore(root, patterns, r)
    check_env_not_committed(root, r)
    return r.failures


# (description, file: app|proxy|ignore, old text, new text, text the failure must contain)
MUTATIONS = [
    ("the app runs as root", "app", "USER ${USER_ID}:${GROUP_ID}", "USER root", "the final USER must be"),
    ("an ADD of a URL", "app", "COPY migrations /app/migrations", "ADD https://example.com/m.tar /app/m.tar\nCOPY migrations /app/migrations", "use COPY"),
    ("a base image on latest", "proxy", "FROM nginx:${NGINX_VERSION}-bookworm", "FROM nginx:latest", "explicit tag other than latest"),
    ("apt-get without --no-install-recommends", "proxy", "install -y --no-install-recommends", "install -y", "--no-install-recommends"),
    ("apt lists kept", "app", " && rm -rf /var/lib/apt/lists/*\n\n# Node.js 22", "\n\n# Node.js 22", "rm -rf /var/lib/apt/lists"),
    ("an API key baked into ENV", "app", "    RUST_LOG=info", "    RUST_LOG=info \\\n    ANTHROPIC_API_KEY=sk-ant-abc", "secrets must come from the environment"),
    ("no HEALTHCHECK", "app", "HEALTHCHECK --interval", "# HEALTHCHECK --interval", "needs a HEALTHCHECK"),
    ("cargo run outside the scripts", "app", "PD_RELEASE_OUT=/out scripts/build-release.sh", "cargo build --release -p server", "calls cargo directly"),
    ("a different Claude Code version", "app", "ARG CLAUDE_CODE_VERSION=", "ARG CLAUDE_CODE_VERSION=0.", "must equal tools/package.json"),
    ("a curl | sh install", "proxy", "RUN apt-get update", "RUN curl -fsSL https://example.com/i.sh | sh && apt-get update", "pipes a downloaded script"),
    ("shell-form ENTRYPOINT", "app", 'ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]', "ENTRYPOINT /app/deploy/entrypoint.sh", "must be a JSON array"),
    ("a # syntax= line", "proxy", "# deploy/proxy/Dockerfile", "# syntax=docker/dockerfile:1\n# deploy/proxy/Dockerfile", "`# syntax=` directive"),
    (".env let into the build context", "ignore", "deploy/checks\n", "deploy/checks\n!.env\n", "must exclude .env"),
]


def self_test(root: Path, texts: dict) -> int:
    if run_checks(root, texts["app"], texts["proxy"], texts["ignore"], quiet=True):
        print("  FAIL  self-test needs passing Dockerfiles first")
        return 1
    bad = 0
    for description, which, old, new, expected in MUTATIONS:
        if old not in texts[which]:
            bad += 1
            print(f"  FAIL  self-test is stale: {old!r} not found in the {which} file")
            continue
        mutated = dict(texts, **{which: texts[which].replace(old, new, 1)})
        failures = run_checks(root, mutated["app"], mutated["proxy"], mutated["ignore"], quiet=True)
        caught = [f for f in failures if expected in f]
        if caught:
            print(f"  ok    caught: {description} -> {caught[0][:110]}")
        else:
            bad += 1
            print(f"  FAIL  not caught: {description} (expected {expected!r}; got {failures})")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--self-test", action="store_true")
    options = parser.parse_args()
    root = options.root
    ignore_file = root / ".dockerignore"
    texts = {"app": (root / "Dockerfile").read_text(), "proxy": (root / "deploy/proxy/Dockerfile").read_text(),
             "ignore": ignore_file.read_text() if ignore_file.exists() else ""}
    if options.self_test:
        print(f"- self-test: {len(MUTATIONS)} broken variants of the Dockerfiles/.dockerignore must each fail")
        return self_test(root, texts)
    failures = run_checks(root, texts["app"], texts["proxy"], texts["ignore"])
    if failures:
        print(f"dockerfile checklist: {len(failures)} failure(s)")
        return 1
    print("dockerfile checklist: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
