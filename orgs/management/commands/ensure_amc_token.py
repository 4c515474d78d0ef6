from orgs.amc.services import ensure_amc_token
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Fix the AMC spinning wheel: mappings, a usable token pair, and the AMC account."
    action = "ensure_amc_token"
    mutating = True

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email or username.")
        parser.add_argument("--org", required=True, help="Short name or name.")

    def run(self, options, actor):
        return ensure_amc_token(
            user=options["user"],
            organization=options["org"],
            actor=actor,
            dry_run=options["dry_run"],
        )
