from orgs.amc.services import ensure_amc_admin
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Make a user an active AMC admin of an organization and its site."
    action = "ensure_amc_admin"
    mutating = True

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email or username.")
        parser.add_argument("--org", required=True, help="Short name or name.")

    def run(self, options, actor):
        return ensure_amc_admin(
            user=options["user"],
            organization=options["org"],
            actor=actor,
            dry_run=options["dry_run"],
        )
