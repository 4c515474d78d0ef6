from orgs.codes import diagnose_code
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = (
        "Why an enrollment code can or cannot be redeemed. CODE may be the bare code or a "
        "redemption link ending in it."
    )
    action = "diagnose_code"

    def add_arguments(self, parser):
        parser.add_argument("code", metavar="CODE", help="The code, or a redemption link.")
        parser.add_argument("--user", help="Email or username of the learner trying the code.")
        parser.add_argument(
            "--at", help="ISO 8601 date or date and time to check at (default: now; naive = UTC)."
        )

    def run(self, options, actor):
        return diagnose_code(
            code_text=options["code"], user=options["user"], at=options["at"], actor=actor
        )
