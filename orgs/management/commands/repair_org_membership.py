"""Apply the fixes diagnose_org_membership names (all safe ones when no --fix is given).

A repair that Keycloak stops part-way fails like any other error: one line on stderr, exit 1
(what Keycloak did before is in that line and in the audit trail).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from orgs.membership import Fix, repair_org_membership
from support_tools.actors import Actor
from support_tools.doors.commands import SupportCommand


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
        return repair_org_membership(
            user=options["user"],
            organization=options["org"],
            fixes=options["fix"],
            actor=actor,
            dry_run=options["dry_run"],
        )
