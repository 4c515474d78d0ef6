"""Apply the fixes diagnose_org_membership names (all safe ones when no --fix is given).

Exits 1 (after printing the outcome) when a fix failed part-way, e.g. Keycloak refused a call.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser

from orgs.membership import Fix, repair_org_membership
from support_tools.actors import Actor
from support_tools.doors.commands import SupportCommand

FIXES_FAILED = "error: the repair stopped part-way: {fixes} failed (see the results above)."


class Command(SupportCommand):
    help = __doc__
    action = "repair_org_membership"
    mutating = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Email (case-insensitive) or username.")
        parser.add_argument("--org", required=True, help="Short name or name (case-insensitive).")
        parser.add_argument(
            "--fix",
            action="append",
            choices=[f.value for f in Fix],
            metavar="FIX",
            help="A fix to apply (repeatable): " + ", ".join(f.value for f in Fix) + ".",
        )

    def run(self, options: dict[str, Any], actor: Actor) -> Any:
        result = repair_org_membership(
            user=options["user"],
            organization=options["org"],
            fixes=options["fix"],
            actor=actor,
            dry_run=options["dry_run"],
        )
        self._failed = result.failed_fixes
        return result

    def handle(self, *args: Any, **options: Any) -> None:
        self._failed: list[str] = []
        super().handle(*args, **options)
        if self._failed:
            self.stdout.flush()
            sys.stderr.write(FIXES_FAILED.format(fixes=", ".join(self._failed)) + "\n")
            sys.exit(1)
