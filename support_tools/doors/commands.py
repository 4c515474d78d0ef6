"""The base of every support management command: --json, --dry-run, one-line errors."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support_tools.actors import Actor
from support_tools.errors import SupportError
from support_tools.text import clean_text

log = logging.getLogger(__name__)

UNEXPECTED = (
    "An unexpected error stopped {command} ({detail}); it was recorded in the audit trail "
    "and the log."
)
# Options that are not free text typed by a person.
NOT_TEXT = {"verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color"}


class _Parser(CommandParser):
    def error(self, message: str):  # noqa: ANN201 - argparse signature
        raise CommandError(f"{self.prog}: {message}", returncode=2)


class SupportCommand(BaseCommand):
    """Subclasses set `action` and `mutating`, add their arguments and implement `run`,
    which calls one service and returns its result (anything with `as_dict()`)."""

    action: str = ""
    mutating: bool = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _Parser  # parse errors become one plain line, not usage text
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        if self.mutating:
            parser.add_argument(
                "--dry-run", action="store_true", help="Write nothing; say what would change."
            )
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing, before execute() could catch it
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(exc.returncode)

    def actor(self) -> Actor:
        return Actor.system(f"manage.py {self.action}")

    def run(self, options: dict[str, Any], actor: Actor) -> Any:
        raise NotImplementedError

    def check_text(self, options: dict[str, Any]) -> None:
        """Every free-text argument, before any query (see support_tools.text)."""
        for name, value in options.items():
            if name in NOT_TEXT:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if isinstance(item, str):
                    clean_text(item, field=name.replace("_", " "), max_length=10_000)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.check_text(options)
            result = self.run(options, self.actor())
        except SupportError as exc:
            raise CommandError(exc.message) from None
        except Exception as exc:  # one line, never a traceback: the audit row has the rest
            log.error("%s failed: %s", self.action, type(exc).__name__)
            detail = type(exc).__name__
            raise CommandError(UNEXPECTED.format(command=self.action, detail=detail)) from None
        data = result.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(data, default=str))
        else:
            self.stdout.write(render_text(data))


CHANGES_APPLIED = "Changes applied."
NOTHING_NEEDED = "Nothing needed changing."
DRY_RUN_NOTHING = "Dry run: nothing would change."
DRY_RUN_WOULD = "Dry run, nothing written. Would change: {what}."
# Row statuses that are not a change (a failed row changes nothing).
NOT_A_CHANGE = {"unchanged", "skipped", "error", "failed"}


def render_text(data: dict[str, Any]) -> str:
    """A readable form of the JSON: the checklist first, what changed (or would), the rest."""
    lines: list[str] = [data["summary"]] if "summary" in data else []
    if "problems" in data:
        lines.append("OK: no problem found." if data.get("ok") else "Problems found:")
        for p in data["problems"]:
            mark = "!" if p["severity"] == "warning" else "x"
            fix = f"  [fix: {p['fix']}]" if p.get("fix") else ""
            lines.append(f"  {mark} {p['code']}: {p['message']}{fix}")
    if "changed" in data:
        lines.append(_change_line(data))
    for key, value in data.items():
        if key in {"summary", "problems", "ok", "changed", "dry_run", "results"}:
            continue
        lines.append(f"{key}: {json.dumps(value, default=str)}")
    for row in data.get("results", []):
        lines.append("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return "\n".join(lines)


def _change_line(data: dict[str, Any]) -> str:
    if not data["changed"]:
        return DRY_RUN_NOTHING if data.get("dry_run") else NOTHING_NEEDED
    if not data.get("dry_run"):
        return CHANGES_APPLIED
    return DRY_RUN_WOULD.format(what=", ".join(_what_changes(data)) or "see below")


def _what_changes(data: dict[str, Any]) -> list[str]:
    """What a dry run would change, read from the shapes results share: rows with a status,
    parts {"created"/"updated": true}, mappings "created"/"updated", counts *_updated/_added."""
    parts: list[str] = []
    statuses: dict[str, int] = {}
    for row in data.get("results") or []:
        status = row.get("status") if isinstance(row, dict) else None
        if status and status not in NOT_A_CHANGE:
            statuses[status] = statuses.get(status, 0) + 1
    parts += [f"{status.replace('_', ' ')} {n}" for status, n in statuses.items()]
    for key, value in data.items():
        name = key.replace("_", " ")
        if isinstance(value, dict):
            if value.get("created") is True:
                parts.append(f"{name} created")
            elif value.get("updated") is True:
                parts.append(f"{name} updated")
            one = name.removesuffix("s")
            parts += [f"{k} {one} {v}" for k, v in value.items() if v in ("created", "updated")]
        elif key.endswith(("_updated", "_added")) and type(value) is int and value > 0:
            parts.append(f"{name} {value}")
    return parts
