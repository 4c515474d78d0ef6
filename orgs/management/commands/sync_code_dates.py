from orgs.codes import sync_code_dates
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Set the dates of one enrollment code, or of all codes of a contract, to the contract's."
    action = "sync_code_dates"
    mutating = True

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--code", help="One code (or a redemption link).")
        target.add_argument("--contract", help='Every code of a contract: its id or "ORG:name".')

    def run(self, options, actor):
        return sync_code_dates(
            code=options["code"],
            contract=options["contract"],
            actor=actor,
            dry_run=options["dry_run"],
        )
