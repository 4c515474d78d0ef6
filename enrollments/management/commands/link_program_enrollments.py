import sys
from pathlib import Path

from tqdm import tqdm

from enrollments.linking.csv_rows import parse_link_rows
from enrollments.linking.service import link_program_enrollments
from support_tools.doors.commands import SupportCommand
from support_tools.errors import SupportError

FILE_NOT_FOUND = "Cannot read {path}: {reason}."


class Command(SupportCommand):
    help = (
        "Link external user keys to users in a program. FILE (or stdin when absent or '-') "
        "holds CSV rows external_user_key,username, with an optional header row. A big file "
        "runs in the foreground, step by step, with a progress bar on stderr (on a terminal)."
    )
    action = "link_program_enrollments"
    mutating = True
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("program_uuid", metavar="PROGRAM_UUID")
        parser.add_argument("file", metavar="FILE", nargs="?", default="-")

    def run(self, options, actor):
        pairs = parse_link_rows(self._read(options["file"], options.get("stdin") or sys.stdin))
        bar = ProgressBar(sys.stderr)
        try:
            return link_program_enrollments(
                program_uuid=options["program_uuid"],
                pairs=pairs,
                actor=actor,
                dry_run=options["dry_run"],
                progress=bar,
            )
        finally:
            bar.close()

    def _read(self, name, stdin):
        if name == "-":
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
            return data
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise SupportError(FILE_NOT_FOUND.format(path=name, reason=exc.strerror)) from None


class ProgressBar:
    """A tqdm bar on `stream` (stderr), moved by `bar(done, total)` after each batch; drawn only
    on a terminal, so that a pipe or a log gets nothing."""

    def __init__(self, stream, *, mininterval=0.2):
        self.stream, self.mininterval = stream, mininterval
        self.bar = None

    def __call__(self, done, total):
        if self.bar is None:
            self.bar = tqdm(
                total=total,
                file=self.stream,
                desc="Linking",
                unit=" rows",
                disable=not _is_terminal(self.stream),
                mininterval=self.mininterval,
            )
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
