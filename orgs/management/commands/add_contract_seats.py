from orgs.codes import add_contract_seats
from support_tools.doors.commands import SupportCommand


class Command(SupportCommand):
    help = "Raise a contract's seat limit (a commercial decision: a reason is required)."
    action = "add_contract_seats"
    mutating = True

    def add_arguments(self, parser):
        parser.add_argument("contract", metavar="CONTRACT", help='Its id or "ORG:contract name".')
        parser.add_argument("--seats", type=int, required=True, help="How many seats to add.")
        parser.add_argument("--reason", required=True, help="Why: kept in the audit trail.")
        parser.add_argument(
            "--from",
            dest="expected",
            type=int,
            metavar="N",
            help="The seat limit you saw; with it, running the command again changes nothing.",
        )

    def run(self, options, actor):
        return add_contract_seats(
            contract=options["contract"],
            seats=options["seats"],
            reason=options["reason"],
            expected_max_learners=options["expected"],
            actor=actor,
            dry_run=options["dry_run"],
        )
