#!/usr/bin/env python
import os
import sys
from pathlib import Path

# Written by `make demo` (scripts/demo.sh): the demo's settings, so that a command pasted from
# README into a new shell talks to the demo. Variables already set in the shell win, and a
# shell that names a database (DATABASE_URL) is not talking to the demo's: the file is ignored
# (a production check run in a folder where `make demo` once ran must not get its dev settings).
DEMO_ENV = Path(__file__).resolve().parent / "var" / "demo.env"


def load_demo_environment() -> None:
    if not DEMO_ENV.is_file() or os.environ.get("DATABASE_URL"):
        return
    for line in DEMO_ENV.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


def main() -> None:
    load_demo_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
