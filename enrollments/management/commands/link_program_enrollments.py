import sys
from pathlib import Path

from enrollments.linking.csv_rows import parse_link_rows
from enrollments.linking.service import link_program_enrollments
from support_tools.doors.commands import SupportCommand
from support_tools.errors import SupportError

FILE_NOT_FOUND = "Cannot read {path}: {reason}."


class Command(SupportCommand):
    help = (
        "Link external user keys to users in a program. FILE (or stdin when absent or '-') "
        "holds CSV rows external_user_key,username, with an optional header row."
    )
    action = "link_program_enrollments"
    mutating = True
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("program_uuid", metavar="PROGRAM_UUID")
        parser.add_argument("file", metavar="FILE", nargs="?", default="-")

    def run(self, options, actor):
        pairs = parse_link_rows(self._read(options["file"], options.get("stdin") or sys.stdin))
        return link_program_enrollments(
            program_uuid=options["program_uuid"],
            pairs=pairs,
            actor=actor,
            dry_run=options["dry_run"],
            progress=ProgressBar(sys.stderr) if sys.stderr.isatty() else None,
        )

    def _read(self, name, stdin):
        if name == "-":
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
            return data
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise SupportError(FILE_NOT_FOUND.format(path=name, reason=exc.strerror)) from None


class ProgressBar:
    """`Linking [#####.....] 5000/10000` on a terminal's stderr, redrawn after each batch."""

    def __init__(self, stream, width=30):
        self.stream, self.width = stream, width

    def __call__(self, done, total):
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\rLinking [{bar}] {done}/{total}{end}")
        self.stream.flush()
