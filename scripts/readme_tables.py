"""scripts/readme_tables.py — reads README.md's sections, tables and shell blocks, for the checks that hold README
to the code (scripts/check-docs.py, deploy/checks/check_compose.py) and the Compose test that runs README's
deployment commands as written (deploy/checks/compose_test.sh). Standard library only.

  python3 scripts/readme_tables.py sh "HEADING" [N]   prints the N-th (from 1) ```sh block under `### HEADING`"""

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


def shell_blocks(readme: str, heading: str) -> list[str]:
    """The ```sh blocks of README's `### heading` subsection, in order."""
    text = readme.partition(f"\n### {heading}\n")[2]
    text = re.split(r"\n##+ ", text, maxsplit=1)[0]
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


if __name__ == "__main__":
    import pathlib
    import sys

    if len(sys.argv) not in (3, 4) or sys.argv[1] != "sh":
        sys.exit(__doc__)
    readme_text = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = shell_blocks(readme_text, sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    if not 1 <= n <= len(blocks):
        sys.exit(f"README.md has {len(blocks)} sh block(s) under '### {sys.argv[2]}', not a block {n}")
    sys.stdout.write(blocks[n - 1])
