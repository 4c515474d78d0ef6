from orgs.amc.diagnosis import diagnose_amc_user
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Check every cause of the AMC spinning wheel for a user."
    action = "diagnose_amc_user"

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email or username.")

    def run(self, options, actor):
        return diagnose_amc_user(user=options["user"], actor=actor)
