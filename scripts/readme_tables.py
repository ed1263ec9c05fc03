"""scripts/readme_tables.py — reads README.md's sections, tables and shell blocks, for the checks that hold README
to the code (scripts/check-docs.py, deploy/checks/check_compose.py) and the Compose test that runs README's
deployment commands as written (deploy/checks/compose_test.sh). Standard library only.

  python3 scripts/readme_tables.py sh "HEADING" [N]      prints the N-th (from 1) ```sh block under `### HEADING`
  python3 scripts/readme_tables.py line "HEADING" TEXT   prints the `inline command` under `### HEADING` that
                                                         contains TEXT"""

from __future__ import annotations

import re

VAR_NAME = r"[A-Z][A-Z0-9_]*[A-Z0-9]"


def section(readme: str, title: str) -> str:
    """The text of README's `## title` section, its ### subsections included."""
    return readme.partition(f"\n## {title}\n")[2].partition("\n## ")[0]


def first_cells(text: str) -> list[str]:
    """The first cell of every table row but header and separator rows."""
    cells = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]*", line):
            continue
        cell = line[1:].split(" | ", 1)[0].strip().rstrip("|").strip()
        cells.append(cell)
    return [c for c in cells if c not in ("Variable", "Method and path")]


def configuration_variables(readme: str, settings_only: bool = False) -> set:
    """The variables the first cells of README's "## Configuration" tables name (a row may name two: `A`, `B`).
    settings_only: the first table alone, the settings of a deployment; its "### Other variables" (set by the
    system, the images' scripts or development tools) are not settings of .env."""
    text = section(readme, "Configuration")
    if settings_only:
        text = text.partition("\n### ")[0]
    names = set()
    for cell in first_cells(text):
        names |= set(re.findall(r"`(" + VAR_NAME + r")`", cell))
    return names


def subsection(readme: str, heading: str) -> str:
    """The text of README's `### heading` subsection, up to the next heading."""
    text = readme.partition(f"\n### {heading}\n")[2]
    return re.split(r"\n##+ ", text, maxsplit=1)[0]


def shell_blocks(readme: str, heading: str) -> list[str]:
    """The ```sh blocks of README's `### heading` subsection, in order."""
    return re.findall(r"```sh\n(.*?)```", subsection(readme, heading), flags=re.S)


def inline_commands(readme: str, heading: str) -> list[str]:
    """The `inline code` spans of the subsection's prose (outside its ```sh blocks)."""
    prose = re.sub(r"```.*?```", "", subsection(readme, heading), flags=re.S)
    return re.findall(r"`([^`\n]+)`", prose)


if __name__ == "__main__":
    import pathlib
    import sys

    readme_text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    if len(sys.argv) in (3, 4) and sys.argv[1] == "sh":
        blocks = shell_blocks(readme_text, sys.argv[2])
        n = int(sys.argv[3]) if len(sys.argv) == 4 else 1
        if not 1 <= n <= len(blocks):
            sys.exit(f"README.md has {len(blocks)} sh block(s) under '### {sys.argv[2]}', not a block {n}")
        sys.stdout.write(blocks[n - 1])
    elif len(sys.argv) == 4 and sys.argv[1] == "line":
        found = [c for c in inline_commands(readme_text, sys.argv[2]) if sys.argv[3] in c]
        if len(found) != 1:
            sys.exit(f"README.md has {len(found)} inline commands with '{sys.argv[3]}' under '### {sys.argv[2]}', not one")
        print(found[0])
    else:
        sys.exit(__doc__)
