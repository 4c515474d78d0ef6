from accounts.selectors import resolve_user
from support_tools.audit_retire import retire_learner_audit
from support_tools.doors.commands import SupportCommand
from support_tools.errors import SupportError

USER_OR_STRINGS = (
    "Give --user for an existing account, or --username/--email for one that no longer exists."
)


class Command(SupportCommand):
    help = "Replace a learner's personal data in the audit trail; the chain stays verifiable."
    action = "retire_learner_audit"
    mutating = True

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Email or username of an existing account.")
        parser.add_argument("--username", action="append", default=[], help="A former username.")
        parser.add_argument("--email", action="append", default=[], help="A former email.")
        parser.add_argument(
            "--external-key",
            action="append",
            default=[],
            help="An external user key of the learner (those the trail pairs with them are found).",
        )

    def run(self, options, actor):
        strings = options["username"] or options["email"]
        if bool(options["user"]) == bool(strings):
            raise SupportError(USER_OR_STRINGS)
        user = resolve_user(options["user"]) if options["user"] else None
        return retire_learner_audit(
            user=user,
            usernames=options["username"],
            emails=options["email"],
            external_keys=options["external_key"],
            actor=actor,
            dry_run=options["dry_run"],
        )
