"""`create_api_token --user USER [--expires-days N] [--json]`: a REST API token, shown once."""

import json

from django.core.management.base import CommandError

from support_tools.api_tokens import create_api_token, find_staff_user
from support_tools.doors.commands import SupportCommand
from support_tools.errors import SupportError
from support_tools.results import format_when

DEFAULT_DAYS = 30
SHOWN_ONCE = (
    "API token for {user}, expires {expires}. It is shown only this once: store it now, "
    "and send it as the header 'Authorization: Token <token>'.\n{token}"
)


class Command(SupportCommand):
    help = "Create a REST API token for an active staff user and print it, once."
    action = "create_api_token"

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email or username.")
        parser.add_argument(
            "--expires-days", type=int, default=DEFAULT_DAYS, help=f"Default {DEFAULT_DAYS}."
        )

    def run(self, options, actor):
        return create_api_token(
            user=find_staff_user(options["user"]),
            expires_days=options["expires_days"],
            actor=actor,
        )

    def handle(self, *args, **options):
        try:
            result = self.run(options, self.actor())
        except SupportError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            expires = format_when(result.expires)
            self.stdout.write(
                SHOWN_ONCE.format(user=result.user, expires=expires, token=result.token)
            )
