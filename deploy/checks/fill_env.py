#!/usr/bin/env python3
"""deploy/checks/fill_env.py — TEST FIXTURE: the "editor" the Compose test runs for README's `$EDITOR .env`.

Usage (as $EDITOR): EDITOR="python3 deploy/checks/fill_env.py VALUES" then `$EDITOR .env`.
Every KEY=VALUE line of VALUES replaces the line of .env that sets KEY, commented out (`# KEY=`) or not, as a
user editing .env.example's copy would; a KEY that .env does not mention is appended. Nothing else changes.
"""
import re
import sys


def main(values_path, target_path):
    with open(values_path) as values_file:
        values = dict(line.rstrip("\n").split("=", 1) for line in values_file if "=" in line and not line.startswith("#"))
    with open(target_path) as target_file:
        lines = target_file.read().splitlines()
    for key, value in values.items():
        pattern = re.compile(rf"^#?\s*{re.escape(key)}=")
        for i, line in enumerate(lines):
            if pattern.match(line):
                lines[i] = f"{key}={value}"
                break
        else:
            lines.append(f"{key}={value}")
    with open(target_path, "w") as target_file:
        target_file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
