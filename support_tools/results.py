"""Result shapes shared by every service: problems, diagnoses and repairs.

A diagnosis or repair is a frozen dataclass that mixes in `Diagnosis` or `Repair` and says what
else it carries in `payload()`; the `ok`/`changed` header and the JSON shape of the contract
(`as_dict`) come from here, once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "fix": self.fix,
        }


def error(code: str, message: str, fix: str | None = None) -> Problem:
    return Problem(code, Severity.ERROR, message, fix)


def warning(code: str, message: str, fix: str | None = None) -> Problem:
    return Problem(code, Severity.WARNING, message, fix)


def is_ok(problems: tuple[Problem, ...] | list[Problem]) -> bool:
    return not any(p.severity == Severity.ERROR for p in problems)


class Diagnosis:
    """Mixed into a frozen dataclass with a `problems` field: what a diagnosis found."""

    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return is_ok(self.problems)

    def payload(self) -> dict[str, Any]:
        """What the diagnosis carries besides its problems (JSON-ready)."""
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            **self.payload(),
            "problems": [p.as_dict() for p in self.problems],
        }


class Repair:
    """Mixed into a frozen dataclass with a `dry_run` field: what a repair changed, or would."""

    dry_run: bool

    @property
    def changed(self) -> bool:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "dry_run": self.dry_run, **self.payload()}


def format_when(value: dt.datetime) -> str:
    """A moment as people read it in messages: always in UTC, with its zone."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
