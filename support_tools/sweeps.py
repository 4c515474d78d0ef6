"""The shape of a sweep's finding, shared by every playbook's platform-wide selector.

Each playbook contributes `find_problems(*, batch_size=..., stats=None) -> Iterator[Finding]`
in its own package (orgs/amc/sweep.py, ...): the problems its diagnosis would report, found in
bulk (a constant number of queries per batch, never one diagnosis per learner). The console's
sweep service (console/sweeps/) runs them, keeps the findings and fixes them through the
playbooks' own services. `subject` says what that fix needs (an organization, a contract...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from support_tools.results import Problem, Severity

DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Finding:
    playbook: str
    code: str
    severity: str
    message: str
    fix: str | None
    user_id: int | None
    username: str | None
    target: str  # what it is about, as text
    subject: tuple[tuple[str, Any], ...] = ()  # what its fix needs, as (name, value) pairs

    @classmethod
    def of(
        cls,
        playbook: str,
        problem: Problem,
        *,
        target: str,
        user_id: int | None = None,
        username: str | None = None,
        **subject: Any,
    ) -> Finding:
        return cls(
            playbook=playbook,
            code=problem.code,
            severity=str(problem.severity),
            message=problem.message,
            fix=problem.fix,
            user_id=user_id,
            username=username,
            target=target,
            subject=tuple(sorted(subject.items())),
        )

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def subject_dict(self) -> dict[str, Any]:
        return dict(self.subject)

    def problem(self) -> Problem:
        return Problem(self.code, Severity(self.severity), self.message, self.fix)

    def as_dict(self) -> dict[str, Any]:
        """The contract's shape (shared/CONTRACT.md, Sweeps)."""
        return {
            "playbook": self.playbook,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "user": self.username,
            "target": self.target,
        }


@dataclass
class SweepStats:
    """What a selector says about its run besides its findings: how much it checked, and what
    it could not check (a Keycloak organization left out), for the Health page and benchmarks."""

    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


FindProblems = Callable[..., Iterator[Finding]]


def keyset_batches(
    ids_after: Callable[[int, int], list[int]], batch_size: int
) -> Iterator[list[int]]:
    """Batches of ids in ascending order: `ids_after(last, n)` gives the next `n` ids above
    `last`. One query per batch, whose cost does not grow with how far the sweep has come."""
    last = 0
    while True:
        ids = ids_after(last, batch_size)
        if not ids:
            return
        yield ids
        if len(ids) < batch_size:
            return
        last = ids[-1]


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
