"""Why a learner is missing from an organization or its contracts (Keycloak and local records)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from orgs.membership import diagnose_org_membership
from support_tools.actors import Actor
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = __doc__
    action = "diagnose_org_membership"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Email (case-insensitive) or username.")
        parser.add_argument("--org", required=True, help="Short name or name (case-insensitive).")

    def run(self, options: dict[str, Any], actor: Actor) -> Any:
        return diagnose_org_membership(
            user=options["user"], organization=options["org"], actor=actor
        )
