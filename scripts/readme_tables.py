"""scripts/readme_tables.py — reads README.md's sections and tables, for the checks that hold README to the code
(scripts/check-docs.py, deploy/checks/check_compose.py). Standard library only."""

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
