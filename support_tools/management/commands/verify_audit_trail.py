import json

from django.core.management.base import CommandError

from support_tools.audit_verify import verify_audit_trail
from support_tools.doors.commands import SupportCommand

INTACT = "OK: the audit trail is intact ({checked} rows checked; head seq {seq}, hash {hash})."
EMPTY = "OK: the audit trail is empty."
BROKEN = "BROKEN at row {broken_at} ({checked} rows checked): {reason}"


class Command(SupportCommand):
    help = "Check the audit trail's hash chain; exit 1 at the first row altered, deleted or moved."
    action = "verify_audit_trail"

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size", type=int, default=2000, help="Rows read per database round trip."
        )

    def run(self, options, actor):
        return verify_audit_trail(chunk_size=max(1, options["chunk_size"]))

    def handle(self, *args, **options):
        # Reads only: a verification that wrote an audit row would change what it proves.
        report = self.run(options, self.actor())
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        elif report.ok:
            line = INTACT if report.checked else EMPTY
            self.stdout.write(
                line.format(checked=report.checked, seq=report.head_seq, hash=report.head_hash)
            )
        else:
            self.stdout.write(BROKEN.format(**report.as_dict(), reason=report.reason))
        if not report.ok:
            raise CommandError(report.reason, returncode=1)
