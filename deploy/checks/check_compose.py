#!/usr/bin/env python3
"""deploy/checks/check_compose.py — checks compose.yml and .env.example (run by scripts/check-deploy.sh).

Usage: check_compose.py --schema SCHEMA.json [--root DIR] [--self-test]

1. compose.yml validates against the Compose Specification JSON schema (as written, and after
   interpolation with the values of .env.example), taken from the npm package dclint (pinned in
   deploy/checks/package-lock.json).
2. The deployment invariants (one check_* function each): only the proxy publishes a port, every service
   has a healthcheck, every depends_on waits for service_healthy in the original's startup order
   (EXPECTED_DEPENDS), the volumes sit where the app expects them (EXPECTED_MOUNTS, the image's home and
   WORKSPACE_ROOT), the networks isolate the services, the worker is scalable, images and commands, and
   app and worker get a stop_grace_period longer than their drain.
3. .env.example: documents every ${VAR} of compose.yml, everything it documents is used, every variable
   the app reads (APP_VARIABLES and README.md's Configuration table) is documented and reaches the app and
   the worker, placeholders are safe.

--self-test: feeds mutated copies (a second published port, a missing healthcheck, …) to the same checks
and fails unless each mutation is caught. Exit status: 0 ok, 1 a check failed, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from readme_tables import configuration_variables  # noqa: E402  (README.md is read by one module)

PROXY, APP, WORKER, POSTGRES, REDIS = (
    "pocket-dev-proxy",
    "pocket-dev-app",
    "pocket-dev-worker",
    "pocket-dev-postgres",
    "pocket-dev-redis",
)
SERVICES = {PROXY, APP, WORKER, POSTGRES, REDIS}
INTERNAL_NET, PUBLIC_NET = "pocket-dev", "pocket-dev-public"
APP_HOME = "/home/pocketdev"

# Where each service must mount which named volume (the app's paths: WORKSPACE_ROOT, HOME/CLAUDE_HOME).
EXPECTED_MOUNTS = {
    APP: {"workspace-data": "/workspace", "user-data": APP_HOME},
    WORKER: {"workspace-data": "/workspace", "user-data": APP_HOME},
    POSTGRES: {"postgres-data": "/var/lib/postgresql/data"},
    REDIS: {"redis-data": "/data"},
}
# The original's startup order: each service waits (healthy) for at least these.
EXPECTED_DEPENDS = {
    APP: {POSTGRES, REDIS},
    PROXY: {APP},
    WORKER: {POSTGRES, REDIS},
}
# Every variable the app reads (server/src/config.rs, the security issue, the Leptos runtime); the variables
# of README.md's Configuration table are added to these when the check runs (readme_variables).
APP_VARIABLES = [
    "DATABASE_URL", "REDIS_URL", "LEPTOS_SITE_ADDR", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "WORKSPACE_ROOT", "CLAUDE_BIN", "CLAUDE_HOME",
    "BASIC_AUTH_USER", "BASIC_AUTH_PASS", "IP_WHITELIST", "TRUSTED_PROXIES", "POCKET_DEV_SECRET_KEY",
    "PD_JOB_LEASE_MS", "PD_WORKER_CONCURRENCY", "PD_SILENCE_TIMEOUT_S", "PD_APPROVAL_TIMEOUT_S",
    "PD_PROVIDER_RETRIES", "RUST_LOG", "LEPTOS_OUTPUT_NAME", "LEPTOS_SITE_ROOT", "LEPTOS_SITE_PKG_DIR",
    "PD_PROVIDER_TIMEOUT_S", "PD_REQUEUE_AFTER_S", "PD_ALLOWED_ORIGINS", "PD_UPLOAD_MAX_BYTES",
    "OPENAI_COMPATIBLE_BASE_URL", "OPENAI_COMPATIBLE_API_KEY", "OPENAI_COMPATIBLE_MODEL",
    "OPENAI_COMPATIBLE_CONTEXT_WINDOW", "PD_MODELS_FILE", "PD_MAX_TOKENS", "PD_THINKING_BUDGET", "PD_REASONING_EFFORT",
    "PD_DRAIN_TIMEOUT_S", "PD_DB_POOL", "PD_JOB_STREAM", "PD_SECRET_KEY_FILE", "CLAUDE_CODE_MAX_RETRIES",
]
# serve and worker drain for up to PD_DRAIN_TIMEOUT_S (default) after SIGTERM; compose must wait longer.
DRAIN_TIMEOUT_S, DRAIN_MARGIN_S = 30, 5
PROXY_VARIABLES = ["BASIC_AUTH_USER", "BASIC_AUTH_PASS", "IP_WHITELIST", "NGINX_PORT", "PD_UPLOAD_MAX_BYTES"]
SECRET_NAME = re.compile(r"(PASS|SECRET|TOKEN|_KEY$)")
PLACEHOLDER_PASS = "change-me"
FIXED_SECTION_MARKER = "fixed in the containers"

VAR_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)")


# ---------------------------------------------------------------- inputs
@dataclass
class Inputs:
    compose: dict
    env_example: str
    dockerfile: str
    schema: dict
    readme: str = ""


@dataclass
class EnvDoc:
    """What .env.example documents: name -> (kind, value); kind is active, optional or fixed."""

    entries: dict = field(default_factory=dict)
    syntax_errors: list = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "EnvDoc":
        doc, fixed = cls(), False
        for number, line in enumerate(text.splitlines(), 1):
            if FIXED_SECTION_MARKER in line and line.startswith("#"):
                fixed = True
                continue
            match = ENV_LINE.match(line)
            if match:
                commented, name, value = match.groups()
                kind = "fixed" if fixed else ("optional" if commented else "active")
                if kind == "active" and not re.fullmatch(r"[^\s'\"#$`\\]*", value):
                    doc.syntax_errors.append(f".env.example:{number}: value of {name} must be plain (no quotes, spaces, #, $)")
                doc.entries[name] = (kind, value)
            elif line.strip() and not line.startswith("#"):
                doc.syntax_errors.append(f".env.example:{number}: not a comment and not NAME=value: {line!r}")
        return doc

    def names(self, *kinds: str) -> set:
        return {n for n, (k, _) in self.entries.items() if not kinds or k in kinds}


def readme_variables(readme: str) -> set:
    """The settings of a deployment README.md's Configuration table documents (its first table; the
    "### Other variables" are not settings of .env, and scripts/check-docs.py checks both against the code)."""
    return configuration_variables(readme, settings_only=True)


def seconds(duration) -> float | None:
    """A Compose duration ("45s", "1m30s") in seconds; None if absent or unreadable."""
    text = str(duration or "")
    parts = DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    return sum(float(n) * scale[u] for n, u in parts)


def strings(node):
    """Every string value in a loaded YAML document (keys excluded: Compose interpolates values)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def referenced_variables(compose: dict) -> set:
    found = set()
    for text in strings(compose):
        for match in VAR_REF.finditer(text):
            name = match.group(1) or match.group(2)
            if name:
                found.add(name)
    return found


def interpolate(node, values: dict):
    """Compose-style interpolation: ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, $V, $$ (nested defaults too)."""
    if isinstance(node, dict):
        return {k: interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, values) for v in node]
    if not isinstance(node, str):
        return node

    def expand(text: str) -> str:
        out, i = [], 0
        while i < len(text):
            if text.startswith("$$", i):
                out.append("$"); i += 2; continue
            if text.startswith("${", i):
                depth, j = 1, i + 2
                while j < len(text):
                    if text.startswith("${", j):
                        depth, j = depth + 1, j + 2
                        continue
                    if text[j] == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if depth:
                    raise ValueError(f"unclosed ${{ in {text!r}")
                body = text[i + 2 : j]
                m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?(.*)$", body, re.S)
                if not m:
                    raise ValueError(f"invalid interpolation ${{{body}}} in {text!r}")
                name, op, arg = m.group(1), m.group(2), m.group(3)
                value = values.get(name)
                if op in (":-", "-"):
                    unset = value is None or (op == ":-" and value == "")
                    out.append(expand(arg) if unset else value)
                elif op in (":?", "?"):
                    unset = value is None or (op == ":?" and value == "")
                    if unset:
                        raise ValueError(f"required variable {name} is missing a value: {arg}")
                    out.append(value)
                else:
                    out.append(value or "")
                i = j + 1
                continue
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)", text[i:])
            if m:
                out.append(values.get(m.group(1), "")); i += len(m.group(0)); continue
            out.append(text[i]); i += 1
        return "".join(out)

    return expand(node)


def mounts(service: dict) -> dict:
    """Named-volume mounts of a service: {volume: target}."""
    result = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            if len(parts) >= 2:
                result[parts[0]] = parts[1]
        elif isinstance(volume, dict) and volume.get("type", "volume") == "volume":
            result[volume.get("source")] = volume.get("target")
    return result


def service_networks(service: dict) -> dict:
    networks = service.get("networks")
    if networks is None:
        return {"default": {}}
    if isinstance(networks, list):
        return {n: {} for n in networks}
    return {n: (v or {}) for n, v in networks.items()}


def dockerfile_env(dockerfile: str) -> dict:
    """ENV name=value pairs of the last stage of a Dockerfile (line continuations joined)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages = re.split(r"(?im)^FROM\s", text)
    env = {}
    for line in stages[-1].splitlines():
        m = re.match(r"\s*ENV\s+(.*)$", line, re.I)
        if m:
            for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)", m.group(1)):
                env[name] = value
    return env


# ---------------------------------------------------------------- the checks
class Report:
    def __init__(self, quiet: bool = False):
        self.failures: list[str] = []
        self.quiet = quiet

    def ok(self, message: str):
        if not self.quiet:
            print(f"  ok    {message}")

    def fail(self, message: str):
        self.failures.append(message)
        if not self.quiet:
            print(f"  FAIL  {message}")

    def check(self, condition: bool, ok_message: str, fail_message: str):
        (self.ok if condition else self.fail)(ok_message if condition else fail_message)


def check_schema(inp: Inputs, env: EnvDoc, r: Report):
    validator = Draft7Validator(inp.schema)
    errors = sorted(validator.iter_errors(inp.compose), key=lambda e: list(e.absolute_path))
    for error in errors:
        r.fail(f"schema: at {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:300]}")
    if not errors:
        r.ok(f"compose.yml is valid against the Compose Specification schema ({inp.schema.get('$id')}, as written)")
    # After interpolation with .env.example's values; required-but-empty ones get a sample value.
    values = {n: v for n, (k, v) in env.entries.items() if k == "active"}
    missing_required = []
    for name in referenced_variables(inp.compose):
        for text in strings(inp.compose):
            if re.search(r"\$\{" + name + r":?\?", text) and not values.get(name):
                missing_required.append(name)
                values[name] = "sample"
    try:
        interpolated = interpolate(inp.compose, values)
    except ValueError as error:
        r.fail(f"interpolation: {error}")
        return
    errors = list(validator.iter_errors(interpolated))
    for error in errors:
        r.fail(f"schema (interpolated): at {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
    if not errors:
        r.ok("compose.yml is valid after interpolation with .env.example's values"
             + (f" (compose refuses to start until these are set: {', '.join(sorted(set(missing_required)))})" if missing_required else ""))


def check_services(c: dict, r: Report):
    names = set((c.get("services") or {}).keys())
    r.check(names == SERVICES, f"services are exactly {', '.join(sorted(SERVICES))}",
            f"services: expected {sorted(SERVICES)}, found {sorted(names)}")


def check_ports(c: dict, r: Report):
    services = c.get("services") or {}
    publishing = sorted(n for n, s in services.items() if s.get("ports"))
    host_net = sorted(n for n, s in services.items() if str(s.get("network_mode", "")).startswith("host"))
    r.check(publishing == [PROXY], f"only {PROXY} publishes ports",
            f"only {PROXY} may publish ports; services publishing ports: {publishing}")
    r.check(not host_net, "no service uses network_mode: host", f"network_mode: host exposes every port: {host_net}")
    ports = (services.get(PROXY) or {}).get("ports") or []
    r.check(len(ports) == 1 and isinstance(ports[0], str) and ports[0].startswith("${NGINX_PORT:-80}:"),
            f"{PROXY} publishes exactly one port, ${{NGINX_PORT:-80}} ({ports})",
            f"{PROXY} must publish exactly one port, \"${{NGINX_PORT:-80}}:…\"; found {ports}")


def check_healthchecks(c: dict, r: Report):
    expected = {PROXY: "/health", APP: "serve", WORKER: "worker", POSTGRES: "pg_isready", REDIS: "redis-cli"}
    for name, service in sorted((c.get("services") or {}).items()):
        hc = service.get("healthcheck") or {}
        test = hc.get("test")
        text = " ".join(test) if isinstance(test, list) else str(test or "")
        healthy = bool(test) and not hc.get("disable") and text.split()[:1] != ["NONE"]
        if not healthy:
            r.fail(f"{name} has no healthcheck (every service needs one)")
            continue
        want = expected.get(name)
        r.check(want is None or want in text, f"{name} healthcheck: {text}",
                f"{name} healthcheck should involve '{want}': {text}")


def check_depends_on(c: dict, r: Report):
    services = c.get("services") or {}
    graph = {}
    for name, service in sorted(services.items()):
        deps = service.get("depends_on") or {}
        if isinstance(deps, list):
            r.fail(f"{name}: depends_on is a list; it must be a mapping with condition: service_healthy")
            deps = {d: {} for d in deps}
        graph[name] = set(deps)
        for dep, spec in deps.items():
            condition = (spec or {}).get("condition")
            r.check(condition == "service_healthy", f"{name} waits for {dep}: service_healthy",
                    f"{name} depends_on {dep} with condition {condition!r}; it must be service_healthy")
            if not (dep in services and (services.get(dep) or {}).get("healthcheck")):
                r.fail(f"{name} depends on {dep}, which is not a service with a healthcheck")
    for name, want in EXPECTED_DEPENDS.items():
        have = graph.get(name, set())
        r.check(want <= have, f"startup order: {name} after {', '.join(sorted(want))}",
                f"startup order: {name} must depend on {sorted(want)} (has {sorted(have)})")
    order, ready = [], set()
    while len(ready) < len(graph):
        step = sorted(n for n in graph if n not in ready and graph[n] <= ready | (graph[n] - set(graph)))
        if not step:
            r.fail(f"depends_on has a cycle among {sorted(set(graph) - ready)}")
            return
        order.extend(step)
        ready.update(step)
    r.ok(f"startup order: {' -> '.join(order)}")


def check_volumes(c: dict, dockerfile: str, r: Report):
    services = c.get("services") or {}
    declared = set((c.get("volumes") or {}).keys())
    for name, expected in EXPECTED_MOUNTS.items():
        have = mounts(services.get(name) or {})
        for volume, target in expected.items():
            r.check(have.get(volume) == target, f"{name} mounts {volume} at {target}",
                    f"{name} must mount volume {volume} at {target} (has {have.get(volume)!r})")
    used = {v for s in services.values() for v in mounts(s)}
    r.check(used <= declared, f"named volumes declared: {', '.join(sorted(declared))}",
            f"volumes used but not declared at the top level: {sorted(used - declared)}")
    # The paths the app expects, from the image and the app's environment.
    env = dockerfile_env(dockerfile)
    home = re.search(r"--home-dir\s+(\S+)", dockerfile)
    r.check(bool(home) and home.group(1) == APP_HOME and env.get("HOME") == APP_HOME,
            f"the image's user home is {APP_HOME} (useradd --home-dir, ENV HOME): user-data holds ~/.claude",
            f"Dockerfile: the app user's home must be {APP_HOME} (useradd --home-dir and ENV HOME)")
    for name in (APP, WORKER):
        app_env = (services.get(name) or {}).get("environment") or {}
        workspace = app_env.get("WORKSPACE_ROOT", env.get("WORKSPACE_ROOT"))
        claude_home = app_env.get("CLAUDE_HOME", app_env.get("HOME", env.get("HOME")))
        r.check(workspace == "/workspace" and claude_home == APP_HOME,
                f"{name}: WORKSPACE_ROOT={workspace} and CLAUDE_HOME={claude_home} sit on the volumes",
                f"{name}: WORKSPACE_ROOT ({workspace}) must be /workspace and CLAUDE_HOME ({claude_home}) {APP_HOME}")


def check_networks(c: dict, r: Report):
    services = c.get("services") or {}
    networks = c.get("networks") or {}
    internal = networks.get(INTERNAL_NET) or {}
    r.check(internal.get("internal") is True, f"network {INTERNAL_NET} is internal: true",
            f"network {INTERNAL_NET} must be declared with internal: true")
    r.check(PUBLIC_NET in networks and not (networks.get(PUBLIC_NET) or {}).get("internal"),
            f"network {PUBLIC_NET} exists (not internal)", f"network {PUBLIC_NET} must exist and not be internal")
    for name, service in sorted(services.items()):
        nets = service_networks(service)
        r.check(INTERNAL_NET in nets, f"{name} is on {INTERNAL_NET}", f"{name} must be on network {INTERNAL_NET}")
        undeclared = set(nets) - set(networks)
        if undeclared:
            r.fail(f"{name} uses undeclared networks {sorted(undeclared)}")
    on_public = sorted(n for n, s in services.items() if PUBLIC_NET in service_networks(s))
    r.check(on_public == [PROXY], f"only {PROXY} is on {PUBLIC_NET}",
            f"only {PROXY} may be on {PUBLIC_NET}; found {on_public}")
    for name in (POSTGRES, REDIS):
        outside = sorted(n for n in service_networks(services.get(name) or {})
                         if not (networks.get(n) or {}).get("internal"))
        r.check(not outside, f"{name} is only on internal networks (no way in or out)",
                f"{name} must be only on internal networks; also on {outside}")
    # TRUSTED_PROXIES (X-Forwarded-For) is exactly the proxy's fixed address on the internal network.
    proxy_ip = (service_networks(services.get(PROXY) or {}).get(INTERNAL_NET) or {}).get("ipv4_address")
    for name in (APP, WORKER):
        trusted = ((services.get(name) or {}).get("environment") or {}).get("TRUSTED_PROXIES")
        r.check(bool(proxy_ip) and trusted == proxy_ip, f"{name}: TRUSTED_PROXIES={trusted} is the proxy's address",
                f"{name}: TRUSTED_PROXIES ({trusted}) must equal the proxy's ipv4_address on {INTERNAL_NET} ({proxy_ip})")


def check_roles(c: dict, r: Report):
    services = c.get("services") or {}
    app, worker = services.get(APP) or {}, services.get(WORKER) or {}
    pg, redis = services.get(POSTGRES) or {}, services.get(REDIS) or {}
    r.check(app.get("command") == ["serve", "--no-worker"], f"{APP} runs serve --no-worker",
            f"{APP} command must be [serve, --no-worker]: {app.get('command')}")
    r.check(worker.get("command") == ["worker"], f"{WORKER} runs worker", f"{WORKER} command must be [worker]")
    r.check(app.get("image") == worker.get("image") and app.get("build") == worker.get("build"),
            f"{APP} and {WORKER} use one image ({app.get('image')})", f"{APP} and {WORKER} must share image and build")
    scalable = "container_name" not in worker and not worker.get("ports") and not any(
        (v or {}).get("ipv4_address") for v in service_networks(worker).values())
    r.check(scalable, f"{WORKER} is scalable (no container_name, no ports, no fixed address)",
            f"{WORKER} must be scalable with --scale: no container_name, ports or ipv4_address")
    r.check(pg.get("image") == "postgres:17-alpine", "postgres image postgres:17-alpine",
            f"{POSTGRES} image must be postgres:17-alpine: {pg.get('image')}")
    pg_env = pg.get("environment") or {}
    r.check(pg_env.get("POSTGRES_DB") == "pocket-dev" and pg_env.get("POSTGRES_USER") == "pocket-dev"
            and "${DB_PASSWORD" in str(pg_env.get("POSTGRES_PASSWORD")),
            "postgres: database and user pocket-dev, password from DB_PASSWORD",
            f"{POSTGRES}: POSTGRES_DB/POSTGRES_USER must be pocket-dev and POSTGRES_PASSWORD ${{DB_PASSWORD…}}")
    r.check(redis.get("image") == "redis:7-alpine", "redis image redis:7-alpine",
            f"{REDIS} image must be redis:7-alpine: {redis.get('image')}")
    command = redis.get("command")
    command = " ".join(command) if isinstance(command, list) else str(command)
    r.check("--appendonly yes" in command, "redis runs with --appendonly yes", f"{REDIS} must run --appendonly yes")
    for name in (APP, WORKER):
        env = (services.get(name) or {}).get("environment") or {}
        db, rd = str(env.get("DATABASE_URL")), str(env.get("REDIS_URL"))
        r.check(re.fullmatch(r"postgres(ql)?://pocket-dev:\$\{DB_PASSWORD[^}]*\}@pocket-dev-postgres:5432/pocket-dev", db) is not None
                and rd.startswith("redis://pocket-dev-redis:6379"),
                f"{name} reaches pocket-dev-postgres/pocket-dev and pocket-dev-redis",
                f"{name}: DATABASE_URL ({db}) / REDIS_URL ({rd}) must point at the compose services")
    addr = str(((services.get(APP) or {}).get("environment") or {}).get("LEPTOS_SITE_ADDR"))
    r.check(addr == "0.0.0.0:3000", f"{APP} listens on {addr} (the proxy's upstream is pocket-dev-app:3000)",
            f"{APP}: LEPTOS_SITE_ADDR must be 0.0.0.0:3000 (the proxy's upstream): {addr}")


def check_stop_grace(c: dict, r: Report):
    services = c.get("services") or {}
    for name in (APP, WORKER):
        grace = (services.get(name) or {}).get("stop_grace_period")
        wait = seconds(grace)
        r.check(wait is not None and wait >= DRAIN_TIMEOUT_S + DRAIN_MARGIN_S,
                f"{name} stop_grace_period {grace} covers the {DRAIN_TIMEOUT_S} s drain",
                f"{name} stop_grace_period must be at least {DRAIN_TIMEOUT_S + DRAIN_MARGIN_S}s (the {DRAIN_TIMEOUT_S} s drain "
                f"and a margin; compose's default 10s kills running turns): {grace}")


def check_env_documentation(c: dict, env: EnvDoc, dockerfile: str, readme: str, r: Report):
    for error in env.syntax_errors:
        r.fail(error)
    used = referenced_variables(c)
    documented = env.names("active", "optional")
    missing = sorted(used - documented)
    r.check(not missing, f"every ${{VAR}} in compose.yml is documented in .env.example ({len(used)}: {', '.join(sorted(used))})",
            f"variables used in compose.yml but not documented in .env.example: {missing}")
    unused = sorted(documented - used)
    r.check(not unused, "everything .env.example offers to set is read by compose.yml",
            f".env.example documents settings that compose.yml never reads: {unused}")
    services = c.get("services") or {}
    image_env = dockerfile_env(dockerfile)
    fixed = env.names("fixed")
    interpolated_fixed = sorted(fixed & used)
    r.check(not interpolated_fixed, "the 'fixed in the containers' variables are not read from .env",
            f".env.example lists as fixed, but compose.yml reads from .env: {interpolated_fixed}")
    for name in sorted(fixed):
        set_somewhere = name in image_env or any(name in ((s.get("environment") or {}) if isinstance(s.get("environment"), dict) else {})
                                                 for s in services.values())
        if not set_somewhere:
            r.fail(f".env.example lists {name} as fixed, but neither compose.yml nor the Dockerfile sets it")
    app_variables = set(APP_VARIABLES) | readme_variables(readme)
    undocumented = sorted(app_variables - env.names())
    r.check(not undocumented, f"all {len(app_variables)} app variables (README's included) are documented in .env.example",
            f"app variables missing from .env.example: {undocumented}")
    for name in (APP, WORKER):
        app_env = (services.get(name) or {}).get("environment") or {}
        absent = sorted(v for v in app_variables if v not in app_env and v not in image_env
                        and not (v == "CLAUDE_HOME" and "HOME" in image_env))
        r.check(not absent, f"{name} receives every app variable (compose environment or image ENV)",
                f"{name} never receives: {absent}")
    proxy_env = (services.get(PROXY) or {}).get("environment") or {}
    absent = sorted(set(PROXY_VARIABLES) - set(proxy_env))
    r.check(not absent, f"{PROXY} receives {', '.join(PROXY_VARIABLES)}", f"{PROXY} never receives: {absent}")
    # Placeholders: nothing secret-looking ships with a value, and the proxy's password is the refused one.
    r.check(env.entries.get("BASIC_AUTH_PASS", (None, None))[1] == PLACEHOLDER_PASS,
            f"BASIC_AUTH_PASS placeholder is '{PLACEHOLDER_PASS}' (the proxy refuses it)",
            f".env.example: BASIC_AUTH_PASS must be exactly '{PLACEHOLDER_PASS}'")
    leaked = sorted(n for n, (k, v) in env.entries.items()
                    if k == "active" and SECRET_NAME.search(n) and v not in ("", PLACEHOLDER_PASS))
    r.check(not leaked, "no secret has a value in .env.example", f".env.example gives secrets a value: {leaked}")


CHECKS = [
    ("Compose Specification schema", lambda i, e, r: check_schema(i, e, r)),
    ("services", lambda i, e, r: check_services(i.compose, r)),
    ("published ports", lambda i, e, r: check_ports(i.compose, r)),
    ("healthchecks", lambda i, e, r: check_healthchecks(i.compose, r)),
    ("depends_on", lambda i, e, r: check_depends_on(i.compose, r)),
    ("volumes", lambda i, e, r: check_volumes(i.compose, i.dockerfile, r)),
    ("networks", lambda i, e, r: check_networks(i.compose, r)),
    ("service roles", lambda i, e, r: check_roles(i.compose, r)),
    ("stop grace periods", lambda i, e, r: check_stop_grace(i.compose, r)),
    (".env.example", lambda i, e, r: check_env_documentation(i.compose, e, i.dockerfile, i.readme, r)),
]


def run_checks(inp: Inputs, quiet: bool = False) -> list[str]:
    env = EnvDoc.parse(inp.env_example)
    r = Report(quiet)
    for title, check in CHECKS:
        if not quiet:
            print(f"- {title}")
        check(inp, env, r)
    return r.failures


# ---------------------------------------------------------------- self-test
def mutations():
    """(description, function(Inputs) -> None, text the failure must contain)."""

    def svc(i, name):
        return i.compose["services"][name]

    def add_app_port(i):
        svc(i, APP)["ports"] = ["3000:3000"]

    def second_proxy_port(i):
        svc(i, PROXY)["ports"].append("443:443")

    def drop_redis_healthcheck(i):
        del svc(i, REDIS)["healthcheck"]

    def started_not_healthy(i):
        svc(i, PROXY)["depends_on"][APP]["condition"] = "service_started"

    def move_user_data(i):
        svc(i, WORKER)["volumes"] = ["workspace-data:/workspace", "user-data:/root"]

    def undocumented_var(i):
        svc(i, APP)["environment"]["RUST_LOG"] = "${PD_LOG_LEVEL:-info}"

    def not_internal(i):
        i.compose["networks"][INTERNAL_NET].pop("internal", None)

    def worker_container_name(i):
        svc(i, WORKER)["container_name"] = "pocket-dev-worker"

    def postgres_on_public(i):
        svc(i, POSTGRES)["networks"] = [INTERNAL_NET, PUBLIC_NET]

    def schema_typo(i):
        svc(i, APP)["healtcheck"] = svc(i, APP)["healthcheck"]

    def real_password(i):
        i.env_example = i.env_example.replace("BASIC_AUTH_PASS=change-me", "BASIC_AUTH_PASS=hunter2")

    def host_network(i):
        svc(i, APP)["network_mode"] = "host"

    def short_grace(i):
        del svc(i, WORKER)["stop_grace_period"]

    def readme_variable_not_passed(i):
        i.readme = i.readme.replace("\n| `DATABASE_URL` |", "\n| `PD_NEW_KNOB` | `1` | A setting the README documents |\n| `DATABASE_URL` |", 1)
        i.env_example += "\n# PD_NEW_KNOB=1\n"

    return [
        ("pocket-dev-app publishes 3000:3000", add_app_port, "only pocket-dev-proxy may publish ports"),
        ("the proxy publishes a second port", second_proxy_port, "must publish exactly one port"),
        ("pocket-dev-redis has no healthcheck", drop_redis_healthcheck, "pocket-dev-redis has no healthcheck"),
        ("the proxy waits for service_started", started_not_healthy, "it must be service_healthy"),
        ("the worker mounts user-data at /root", move_user_data, "must mount volume user-data at /home/pocketdev"),
        ("an undocumented ${PD_LOG_LEVEL}", undocumented_var, "not documented in .env.example: ['PD_LOG_LEVEL']"),
        ("network pocket-dev is not internal", not_internal, "must be declared with internal: true"),
        ("the worker has a container_name", worker_container_name, "must be scalable"),
        ("postgres joins the public network", postgres_on_public, "only pocket-dev-proxy may be on pocket-dev-public"),
        ("a misspelt key (healtcheck)", schema_typo, "schema: at services/pocket-dev-app"),
        ("a real password in .env.example", real_password, "BASIC_AUTH_PASS must be exactly"),
        ("the app on the host network", host_network, "network_mode: host"),
        ("the worker keeps compose's 10 s stop grace", short_grace, "pocket-dev-worker stop_grace_period must be"),
        ("a README variable the containers never get", readme_variable_not_passed, "never receives: ['PD_NEW_KNOB']"),
    ]


def self_test(inp: Inputs) -> int:
    baseline = run_checks(inp, quiet=True)
    if baseline:
        print(f"  FAIL  self-test needs a passing compose.yml first ({len(baseline)} failures)")
        return 1
    bad = 0
    for description, mutate, expected in mutations():
        # a JSON round trip: no YAML anchors shared between app and worker in the mutated copy
        mutant = Inputs(json.loads(json.dumps(inp.compose)), inp.env_example, inp.dockerfile, inp.schema, inp.readme)
        mutate(mutant)
        failures = run_checks(mutant, quiet=True)
        caught = [f for f in failures if expected in f]
        if caught:
            print(f"  ok    caught: {description} -> {caught[0][:110]}")
        else:
            bad += 1
            print(f"  FAIL  not caught: {description} (expected a failure containing {expected!r}; got {failures})")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True, type=Path)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--compose", type=Path, help="default: ROOT/compose.yml")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    root = args.root
    compose_path = args.compose or root / "compose.yml"
    try:
        inp = Inputs(
            compose=yaml.safe_load(compose_path.read_text()),
            env_example=(root / ".env.example").read_text(),
            dockerfile=(root / "Dockerfile").read_text(),
            schema=json.loads(args.schema.read_text()),
            readme=(root / "README.md").read_text(),
        )
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as error:
        print(f"  FAIL  cannot read the inputs: {error}")
        return 1
    if args.self_test:
        print(f"- self-test: {len(mutations())} broken variants of compose.yml/.env.example must each fail")
        return self_test(inp)
    failures = run_checks(inp)
    if failures:
        print(f"compose check: {len(failures)} failure(s)")
        return 1
    print("compose check: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
