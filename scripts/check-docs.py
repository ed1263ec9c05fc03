#!/usr/bin/env python3
"""scripts/check-docs.py — README.md says what the code does (python3, standard library only).

Usage: scripts/check-docs.py [--root DIR] [--self-test]

1. Configuration: the variables of README.md's "## Configuration" section (its tables, first column) are
   exactly the variables the code reads from the environment:
   - Rust (the src/ of backend, providers, server, mockllm, app, domain, frontend; a trailing #[cfg(test)]
     module left out): std::env::var / var_os, env! / option_env! (CARGO_* excepted: cargo sets those at
     build time), tracing's EnvFilter::from_default_env (RUST_LOG), every variable name quoted in the
     configuration modules (CONFIG_MODULES: they read through helpers like optional("NAME") and lists of
     names passed through), and in any other file that reads env::var(name) through a helper or closure,
     the names it passes to calls (`env("LEPTOS_SITE_ROOT", …)`);
   - the images' scripts (deploy/**/*.sh but the tests in deploy/checks/): every $NAME / ${NAME…} in upper
     case that the script does not assign itself.
   A variable read but not in the tables fails, and so does a documented one that nothing reads.
2. HTTP API: the routes of README's "## HTTP API" table (first column, `METHOD /path` code spans; a query
   `?…` or an optional `[…]` after the path is left out) are exactly the (method, path) pairs that
   server/src/routes.rs's api_routes! declares: a route missing from README fails, and so does a README
   route the router does not serve (under that method).
3. Phone size: the README line that says "phone size" names (as `name.spec.ts` code spans) exactly the specs
   of end2end/tests that playwright.config.ts's `phone` project runs (its testMatch), and both projects'
   viewports (width×height); the `desktop` project has no testMatch (README says every spec runs there).

--self-test: plants one mistake at a time (a variable the code reads that README lacks, a route README
lacks, a phone spec README does not name, …) in copies of the inputs and fails unless each one is caught.
Exit status: 0 ok, 1 a check failed, 2 usage.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from readme_tables import VAR_NAME, configuration_variables, first_cells, section

RUST_CRATES = ["backend", "providers", "server", "mockllm", "app", "domain", "frontend"]
# Modules that read the environment through their own helpers (`optional("NAME")`, `number("NAME", 3)`, a
# list of names passed through): every quoted NAME_LIKE_THIS in them is a variable read.
CONFIG_MODULES = ["server/src/config.rs"]
ROUTES_RS = "server/src/routes.rs"
PLAYWRIGHT_CONFIG = "end2end/playwright.config.ts"
SPEC_DIR = "end2end/tests"
PHONE_MARKER = "phone size"

RUST_READ = re.compile(r"\b(?:env::var(?:_os)?|option_env!|env!)\(\s*\"(" + VAR_NAME + r")\"")
QUOTED_NAME = re.compile(r"\"(" + VAR_NAME + r")\"")
INDIRECT_READ = re.compile(r"\benv::var(?:_os)?\(\s*[^\s\")]")
CALL_WITH_NAME = re.compile(r"\b[a-z_][a-z0-9_]*\(\s*\"(" + VAR_NAME + r")\"")
SHELL_REF = re.compile(r"\$\{#?(" + VAR_NAME + r")|\$(" + VAR_NAME + r")")
SHELL_ASSIGN = re.compile(
    r"(?:^|[\s;&|(])(?:(?:local|export|readonly|declare(?: -[a-zA-Z]+)?)\s+)?(" + VAR_NAME + r")\+?="
    r"|\bread\s+(?:-[a-zA-Z]+\s+)*((?:" + VAR_NAME + r"\s*)+)"
    r"|\bfor\s+(" + VAR_NAME + r")\s+in\b"
)
# Set by the shell itself, not read from the environment.
SHELL_OWN = {"IFS", "PWD", "OLDPWD", "RANDOM", "SECONDS", "LINENO", "PIPESTATUS", "FUNCNAME", "BASH_SOURCE",
             "BASH_REMATCH", "BASHPID", "EUID", "UID", "PPID", "OPTARG", "OPTIND", "REPLY"}
ROUTE_DECL = re.compile(r"\"(/[^\"]*)\"\s*=>\s*\{([^}]*)\}")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


@dataclass
class Inputs:
    readme: str
    rust: dict = field(default_factory=dict)  # path -> text
    deploy: dict = field(default_factory=dict)  # path -> text
    routes: str = ""
    playwright: str = ""
    specs: list = field(default_factory=list)  # file names in end2end/tests


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


# ---------------------------------------------------------------- 1. configuration
def rust_source(text: str) -> str:
    """The code without line comments and without a trailing test module."""
    text = re.split(r"\n#\[cfg\(test\)\]\s*\nmod ", text, maxsplit=1)[0]
    return re.sub(r"//.*", "", text)


def rust_variables(rust: dict, unresolved: list) -> dict:
    """variable -> the files that read it; files whose reads cannot be resolved go to `unresolved`."""
    found: dict = {}
    for path, text in rust.items():
        code = rust_source(text)
        names = {n for n in RUST_READ.findall(code) if not n.startswith("CARGO_")}
        if re.search(r"from_default_env\(", code):
            names.add("RUST_LOG")
        if path in CONFIG_MODULES:
            names |= set(QUOTED_NAME.findall(code))
        elif INDIRECT_READ.search(code):
            # A helper or closure reads the variable it is given: the names this file passes to calls.
            passed = set(CALL_WITH_NAME.findall(code))
            if not passed:
                unresolved.append(path)
            names |= passed
        for name in names:
            found.setdefault(name, set()).add(path)
    return found


def shell_variables(scripts: dict) -> dict:
    found: dict = {}
    for path, text in scripts.items():
        code = "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines())
        assigned = set(SHELL_OWN)
        for match in SHELL_ASSIGN.finditer(code):
            for group in match.groups():
                if group:
                    assigned |= set(group.split())
        for a, b in SHELL_REF.findall(code):
            name = a or b
            if name not in assigned:
                found.setdefault(name, set()).add(path)
    return found


def check_configuration(inp: Inputs, r: Report):
    if not section(inp.readme, "Configuration"):
        r.fail("README.md has no '## Configuration' section")
        return
    missing_modules = [m for m in CONFIG_MODULES if m not in inp.rust]
    r.check(not missing_modules, f"configuration modules read: {', '.join(CONFIG_MODULES)}",
            f"configuration modules not found (moved? update CONFIG_MODULES in scripts/check-docs.py): {missing_modules}")
    unresolved: list = []
    read = rust_variables(inp.rust, unresolved)
    r.check(not unresolved, "every environment read names its variable (or passes it through a local helper)",
            f"files read the environment through a variable this check cannot resolve: {unresolved}")
    for name, paths in shell_variables(inp.deploy).items():
        read.setdefault(name, set()).update(paths)
    documented = configuration_variables(inp.readme)
    missing = sorted(set(read) - documented)
    r.check(not missing, f"README's Configuration tables list all {len(read)} variables the code reads",
            "variables the code reads but README's Configuration tables lack: "
            + ", ".join(f"{n} ({', '.join(sorted(read[n]))})" for n in missing))
    unread = sorted(documented - set(read))
    r.check(not unread, f"every one of the {len(documented)} variables README documents is read by the code",
            f"README's Configuration tables document variables nothing reads: {unread}")


# ---------------------------------------------------------------- 2. HTTP API
def served_routes(routes_rs: str) -> set:
    body = routes_rs.partition("\napi_routes! {")[2].partition("\n}")[0]
    routes = set()
    for path, handlers in ROUTE_DECL.findall(body):
        for method in re.findall(r"\b([A-Z]+)\s+[\w:]+", handlers):
            routes.add((method, path))
    return routes


def readme_routes(readme: str) -> tuple[set, list]:
    routes, unreadable = set(), []
    for cell in first_cells(section(readme, "HTTP API")):
        spans = re.findall(r"`([^`]*)`", cell)
        if not spans:
            unreadable.append(cell)
        for span in spans:
            match = re.fullmatch(r"([A-Z]+) (/[^\s?\[]*)(?:[?\[].*)?", span)
            if match and match.group(1) in HTTP_METHODS:
                routes.add((match.group(1), match.group(2)))
            else:
                unreadable.append(span)
    return routes, unreadable


def check_routes(inp: Inputs, r: Report):
    served = served_routes(inp.routes)
    if not served:
        r.fail(f"{ROUTES_RS}: no routes found in `api_routes! {{ … }}` (did the macro move?)")
        return
    listed, unreadable = readme_routes(inp.readme)
    r.check(not unreadable, "every row of README's HTTP API table names its routes as `METHOD /path`",
            f"README's HTTP API table has first cells that are not `METHOD /path`: {unreadable}")
    fmt = lambda routes: ", ".join(f"{m} {p}" for p, m in sorted((p, m) for m, p in routes))  # noqa: E731
    missing = served - listed
    r.check(not missing, f"README's HTTP API table lists all {len(served)} routes of api_routes! ({ROUTES_RS})",
            f"routes the server serves but README's HTTP API table lacks: {fmt(missing)}")
    unknown = listed - served
    r.check(not unknown, "every route README lists is served, with that method",
            f"routes README's HTTP API table lists but the server does not serve: {fmt(unknown)}")


# ---------------------------------------------------------------- 3. phone size
def project(config: str, name: str) -> str | None:
    """The source text of the Playwright project `name` (from its `name:` to the next project's)."""
    start = re.search(r"\bname:\s*[\"']" + re.escape(name) + r"[\"']", config)
    if not start:
        return None
    rest = config[start.end():]
    end = re.search(r"\bname:\s*[\"']", rest)
    return rest[: end.start()] if end else rest


def js_regexes(value: str) -> list | None:
    """The regex literal(s) of a testMatch value (`/…/flags` or an array of them); None if not that."""
    literal = r"/((?:\\.|[^/\\\n])+)/([a-z]*)"
    items = re.findall(literal, value)
    stripped = re.sub(literal, "", value).strip(" \t\n[],")
    if not items or stripped:
        return None
    return [re.compile(body, re.I if "i" in flags else 0) for body, flags in items]


def viewport(config: str, project_text: str) -> str | None:
    """`width×height` of a project: its own `viewport:`, or that of the `...viewports.NAME` it spreads."""
    size = re.compile(r"viewport:\s*\{\s*width:\s*(\d+),\s*height:\s*(\d+)")
    found = size.search(project_text)
    spread = re.search(r"\.\.\.viewports\.(\w+)", project_text)
    if not found and spread:
        start = re.search(r"\bviewports\s*=\s*\{", config)
        entry = start and re.compile(r"\b" + spread.group(1) + r":\s*\{").search(config, start.end())
        found = entry and size.search(config, entry.end())
    return f"{found.group(1)}×{found.group(2)}" if found else None


def check_phone(inp: Inputs, r: Report):
    phone = project(inp.playwright, "phone")
    desktop = project(inp.playwright, "desktop")
    if phone is None or desktop is None:
        r.fail(f"{PLAYWRIGHT_CONFIG}: no `desktop` and `phone` projects found")
        return
    r.check("testMatch" not in desktop and "testIgnore" not in desktop,
            "the desktop project runs every spec (no testMatch, no testIgnore)",
            f"{PLAYWRIGHT_CONFIG}: the desktop project has a testMatch/testIgnore; README says every spec runs at desktop size")
    if "testIgnore" in phone:
        r.fail(f"{PLAYWRIGHT_CONFIG}: the phone project has a testIgnore, which this check does not read (extend it)")
        return
    match = re.search(r"\btestMatch:\s*(\[[^\]]*\]|/(?:\\.|[^/\\\n])+/[a-z]*)", phone)
    patterns = js_regexes(match.group(1)) if match else None
    if patterns is None:
        r.fail(f"{PLAYWRIGHT_CONFIG}: the phone project's testMatch is not a regex literal (or a list of them): "
               f"{match.group(1) if match else 'none'}")
        return
    specs = [s for s in inp.specs if re.search(r"\.(spec|test)\.[cm]?[jt]sx?$", s)]
    # Playwright matches a testMatch regex against the file's absolute path.
    runs = {s for s in specs if any(p.search(f"/{SPEC_DIR}/{s}") for p in patterns)}
    lines = [line for line in inp.readme.splitlines() if PHONE_MARKER in line]
    if len(lines) != 1:
        r.fail(f"README.md must have one line saying which specs run at '{PHONE_MARKER}' (found {len(lines)})")
        return
    named = set(re.findall(r"`([\w.-]+\.spec\.ts)`", lines[0]))
    r.check(runs == named, f"README names the {len(runs)} specs the phone project runs",
            f"README's '{PHONE_MARKER}' line and the phone project's testMatch disagree: run but not named "
            f"{sorted(runs - named)}, named but not run {sorted(named - runs)}")
    for name, text in (("phone", phone), ("desktop", desktop)):
        want = viewport(inp.playwright, text)
        r.check(bool(want) and want in lines[0], f"README gives the {name} viewport ({want})",
                f"README's '{PHONE_MARKER}' line does not give the {name} project's viewport {want}")


CHECKS = [
    ("Configuration: the variables the code reads", check_configuration),
    ("HTTP API: the routes the server serves", check_routes),
    ("the specs that run at phone size", check_phone),
]


def run_checks(inp: Inputs, quiet: bool = False) -> list[str]:
    r = Report(quiet)
    for title, check in CHECKS:
        if not quiet:
            print(f"- {title}")
        check(inp, r)
    return r.failures


# ---------------------------------------------------------------- self-test
def mutations():
    """(description, function(Inputs) -> None, text the failure must contain)."""

    def drop_row(name):
        def mutate(i):
            i.readme = re.sub(r"\n\| `" + name + r"` \|[^\n]*", "", i.readme, count=1)
        return mutate

    def rust_reads(i):
        i.rust["backend/src/planted.rs"] = 'fn f() { let _ = std::env::var("PD_PLANTED_KNOB"); }\n'

    def config_helper_reads(i):
        i.rust[CONFIG_MODULES[0]] += '\nfn planted() -> Option<String> { optional("PD_PLANTED_HELPER") }\n'

    def test_module_only(i):
        i.rust["backend/src/planted.rs"] = 'fn f() {}\n#[cfg(test)]\nmod tests { fn t() { std::env::var("PD_TEST_ONLY"); } }\n'
        i.readme = i.readme.replace("\n| `DATABASE_URL` |", "\n| `PD_TEST_ONLY` | | read by a test only |\n| `DATABASE_URL` |", 1)

    def closure_reads(i):
        i.rust["server/src/startup.rs"] += '\nfn planted() { let _ = env("LEPTOS_PLANTED", "x"); }\n'

    def unresolvable_read(i):
        i.rust["backend/src/planted.rs"] = 'fn f(name: &str) -> bool { std::env::var_os(name).is_some() }\n'

    def script_reads(i):
        path = sorted(i.deploy)[0]
        i.deploy[path] += '\nport="${PROXY_PLANTED_PORT:-80}"\n'

    def readme_ghost(i):
        i.readme = i.readme.replace("\n| `DATABASE_URL` |", "\n| `PD_GHOST` | `1` | read by nobody |\n| `DATABASE_URL` |", 1)

    def route_added(i):
        i.routes = i.routes.replace('\n    "/health" =>', '\n    "/api/planted" => { GET planted::get }\n    "/health" =>', 1)

    def method_added(i):
        i.routes = i.routes.replace('"/api/pricing" => { GET conversations::pricing }',
                                    '"/api/pricing" => { GET conversations::pricing, PUT conversations::set_pricing }', 1)

    def readme_route_moved(i):
        i.readme = i.readme.replace("| `GET /api/pricing` |", "| `GET /api/prices` |", 1)

    def readme_wrong_method(i):
        i.readme = i.readme.replace("| `GET /api/pricing` |", "| `POST /api/pricing` |", 1)

    def phone_narrowed(i):
        i.playwright = re.sub(r"(name: \"phone\",\s*testMatch: )/[^\n]*/,", r"\1/ux_timeline\\.spec\\.ts$/,", i.playwright, count=1)

    def desktop_narrowed(i):
        i.playwright = i.playwright.replace('name: "desktop",', 'name: "desktop",\n      testMatch: /smoke\\.spec\\.ts$/,', 1)

    def new_phone_spec(i):
        i.specs = i.specs + ["ux_planted.spec.ts"]

    def readme_drops_phone_spec(i):
        line = next(line for line in i.readme.splitlines() if PHONE_MARKER in line)
        i.readme = i.readme.replace(line, line.replace("`ux_timeline.spec.ts`", "`ux_timeline`"), 1)

    def phone_resized(i):
        i.playwright = i.playwright.replace("viewport: { width: 390, height: 844 }", "viewport: { width: 360, height: 780 }", 1)

    def desktop_resized(i):
        i.playwright = i.playwright.replace("viewport: { width: 1280, height: 800 }", "viewport: { width: 1440, height: 900 }", 1)

    return [
        ("README drops PD_PROVIDER_TIMEOUT_S", drop_row("PD_PROVIDER_TIMEOUT_S"), "lack: PD_PROVIDER_TIMEOUT_S"),
        ("a crate reads a new variable with std::env::var", rust_reads, "lack: PD_PLANTED_KNOB"),
        ("config.rs reads a new variable through its helper", config_helper_reads, "lack: PD_PLANTED_HELPER"),
        ("a variable only a test module reads is not a setting", test_module_only, "nothing reads: ['PD_TEST_ONLY']"),
        ("a closure over env::var reads a new variable", closure_reads, "lack: LEPTOS_PLANTED"),
        ("an environment read whose variable cannot be told", unresolvable_read, "cannot resolve: ['backend/src/planted.rs']"),
        ("an image's script reads a new variable", script_reads, "lack: PROXY_PLANTED_PORT"),
        ("README documents a variable nothing reads", readme_ghost, "nothing reads: ['PD_GHOST']"),
        ("a new route in api_routes!", route_added, "README's HTTP API table lacks: GET /api/planted"),
        ("a new method on a listed path", method_added, "lacks: PUT /api/pricing"),
        ("README lists a path the server does not serve", readme_route_moved, "does not serve: GET /api/prices"),
        ("README lists a route under the wrong method", readme_wrong_method, "does not serve: POST /api/pricing"),
        ("the phone project runs fewer specs", phone_narrowed, "named but not run"),
        ("the desktop project no longer runs every spec", desktop_narrowed, "the desktop project has a testMatch"),
        ("a new ux_ spec (so it runs at phone size)", new_phone_spec, "run but not named ['ux_planted.spec.ts']"),
        ("README leaves a phone spec out", readme_drops_phone_spec, "run but not named ['ux_timeline.spec.ts']"),
        ("the phone viewport changes", phone_resized, "phone project's viewport 360×780"),
        ("the desktop viewport changes", desktop_resized, "desktop project's viewport 1440×900"),
    ]


def self_test(inp: Inputs) -> int:
    baseline = run_checks(inp, quiet=True)
    if baseline:
        print(f"  FAIL  self-test needs passing inputs first ({len(baseline)} failures: {baseline})")
        return 1
    bad = 0
    for description, mutate, expected in mutations():
        mutant = copy.deepcopy(inp)
        mutate(mutant)
        failures = run_checks(mutant, quiet=True)
        caught = [f for f in failures if expected in f]
        if caught:
            print(f"  ok    caught: {description} -> {caught[0][:110]}")
        else:
            bad += 1
            print(f"  FAIL  not caught: {description} (expected a failure containing {expected!r}; got {failures})")
    return 1 if bad else 0


def load(root: Path) -> Inputs:
    rust = {}
    for crate in RUST_CRATES:
        for path in sorted((root / crate / "src").rglob("*.rs")):
            rust[path.relative_to(root).as_posix()] = path.read_text()
    deploy = {p.relative_to(root).as_posix(): p.read_text()
              for p in sorted((root / "deploy").rglob("*.sh")) if "checks" not in p.relative_to(root / "deploy").parts}
    return Inputs(
        readme=(root / "README.md").read_text(),
        rust=rust,
        deploy=deploy,
        routes=(root / ROUTES_RS).read_text(),
        playwright=(root / PLAYWRIGHT_CONFIG).read_text(),
        specs=sorted(p.name for p in (root / SPEC_DIR).iterdir() if p.is_file()),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    try:
        inp = load(args.root)
    except OSError as error:
        print(f"  FAIL  cannot read the inputs: {error}")
        return 1
    print(f"[check-docs] README.md against {len(inp.rust)} Rust files, {len(inp.deploy)} deploy scripts, "
          f"{ROUTES_RS} and {PLAYWRIGHT_CONFIG}")
    if args.self_test:
        print(f"- self-test: {len(mutations())} planted mistakes must each fail")
        return self_test(inp)
    failures = run_checks(inp)
    if failures:
        print(f"docs check: {len(failures)} failure(s)")
        return 1
    print("docs check: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
