"""sweep [--playbook amc|membership|codes|programs ...] [--fix CODE ...] [--dry-run] [--json]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser
from tqdm import tqdm

from console.sweeps.playbooks import ORDER
from console.sweeps.service import run_sweep
from support_tools.actors import Actor
from support_tools.doors.commands import SupportCommand

# The text form lists this many findings; --json gives them all.
SHOWN = 200


class Command(SupportCommand):
    help = (
        "Run every diagnosis across the platform and list what it finds; with --fix, repair "
        "the findings of those problem codes through their playbooks' services."
    )
    action = "sweep"
    mutating = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--playbook", nargs="+", choices=ORDER, metavar="PLAYBOOK", help=", ".join(ORDER)
        )
        parser.add_argument("--fix", nargs="+", metavar="CODE", help="Problem codes to fix.")

    def run(self, options: dict[str, Any], actor: Actor) -> Any:
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, file=sys.stderr, desc="sweep", disable=None)
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            result = run_sweep(
                playbooks=options["playbook"],
                fix=options["fix"],
                actor=actor,
                dry_run=options["dry_run"],
                progress=progress,
            )
        finally:
            if bar is not None:
                bar.close()
        return result if options["json"] else _Text(result, asked_fix=bool(options["fix"]))


class _Text:
    """The text form: the counts, the fixes, and the first findings."""

    def __init__(self, result: Any, *, asked_fix: bool) -> None:
        self.result = result
        self.asked_fix = asked_fix

    def as_dict(self) -> dict[str, Any]:
        data = self.result.as_dict()
        findings = data.pop("findings")
        if not self.asked_fix:
            # A sweep without --fix only reads: say what it found, not "nothing needed changing".
            data.pop("changed", None)
            data.pop("dry_run", None)
            data["summary"] = _found(len(findings))
        data["results"] = [
            {k: f[k] for k in ("playbook", "code", "severity", "user", "target")}
            for f in findings[:SHOWN]
        ] + data.pop("fixes")
        if len(findings) > SHOWN:
            data["more"] = f"{len(findings) - SHOWN} more findings: --json lists them all"
        return data


def _found(n: int) -> str:
    if not n:
        return "No problem found."
    noun = "problem" if n == 1 else "problems"
    return f"Found {n:,} {noun}; nothing was changed (--fix CODE repairs them)."
