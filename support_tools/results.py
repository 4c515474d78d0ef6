"""Result types shared by every diagnosis."""

from __future__ import annotations

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
