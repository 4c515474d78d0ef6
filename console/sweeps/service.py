"""The sweep: every playbook's diagnoses across the platform, kept, and fixed in bulk.

`run_sweep` is the service of every door (the command `sweep`, `POST /api/v1/sweeps`, the
Health page, Celery beat). Three steps:

1. Find: each playbook's platform-wide selector (`find_problems` in its own package) yields its
   findings. This step reads only and holds no transaction: Keycloak may take its time.
2. Keep: the run (`Sweep`), its findings and the audit row (action `sweep`, each learner with a
   finding recorded on it, so `SupportAction.objects.about(learner)` finds the run) are written
   in one transaction.
3. Fix (`fix_findings`, with `fix` codes): each finding of those codes through its playbook's
   service, one call per learner and fix, each its own transaction and audit row, dry run or
   not; `progress(done, total)` between calls (a job's progress, the command's bar).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from console.sweeps.fixes import FixOutcome, plan_fixes, require_permissions, run_call
from console.sweeps.models import Finding as FindingRow
from console.sweeps.models import Sweep
from console.sweeps.playbooks import ALL_CODES, FIXES_OF_CODE, ORDER, PLAYBOOKS
from support_tools.actors import Actor
from support_tools.audit import support_action
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from support_tools.permissions import ActionSpec
from support_tools.results import Repair
from support_tools.sweeps import Finding, SweepStats, chunks

log = logging.getLogger(__name__)

# Who may see users may run a sweep; each fix then needs its service's own permission.
SWEEP = ActionSpec("sweep", preview="auth.view_user")

UNKNOWN_PLAYBOOK = "Unknown playbook {name!r}; the playbooks are: {known}."
UNKNOWN_CODE = "Unknown problem code {code!r}; the codes a sweep finds are: {known}."
NO_SWEEP = "No sweep has run yet: run one (manage.py sweep, or POST /api/v1/sweeps)."
SWEEP_NOT_FOUND = "No sweep has the id {id}."
FINDINGS_PRUNED = (
    "The findings of sweep {id} are no longer kept (only its counts are): run a new sweep."
)
WRITE_BATCH = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SweepResult(Repair):
    sweep_id: int
    started_at: dt.datetime
    playbooks: tuple[str, ...]
    findings: tuple[Finding, ...]
    dry_run: bool
    fixes: tuple[FixOutcome, ...] = ()
    stats: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.fixes)

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    def payload(self) -> dict[str, Any]:
        return {
            "sweep": {
                "id": self.sweep_id,
                "started_at": self.started_at.isoformat(),
                "playbooks": list(self.playbooks),
                "stats": self.stats or {},
            },
            "counts": self.counts,
            "findings": [f.as_dict() for f in self.findings],
            "fixes": [o.as_dict() for o in self.fixes],
        }


def parse_playbooks(names: Iterable[str] | None) -> tuple[str, ...]:
    """The playbooks asked for, in the sweep's order; all of them when none is named."""
    wanted = list(names or [])
    for name in wanted:
        if name not in PLAYBOOKS:
            raise SupportError(UNKNOWN_PLAYBOOK.format(name=name, known=", ".join(ORDER)))
    return tuple(n for n in ORDER if n in wanted) if wanted else ORDER


def parse_codes(codes: Iterable[str] | None) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(codes or []))
    for code in found:
        if code not in ALL_CODES:
            known = ", ".join(sorted(ALL_CODES))
            raise SupportError(UNKNOWN_CODE.format(code=code, known=known))
    return found


def run_sweep(
    *,
    playbooks: Iterable[str] | None = None,
    fix: Iterable[str] | None = None,
    actor: Actor,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> SweepResult:
    names = parse_playbooks(playbooks)
    codes = parse_codes(fix)
    inputs = {"playbooks": list(names), "fix": list(codes), "dry_run": dry_run}
    _refuse_unless(SWEEP.can_preview(actor), actor, inputs)
    if codes and not dry_run:  # refused before the sweep, not after it
        require_fixes_allowed(codes, actor, inputs)
    started = timezone.now()
    findings, stats = _find(names, now or started, progress)
    with support_action(SWEEP, actor=actor, inputs=inputs) as trail:
        sweep = _keep(names, findings, stats, actor, started)
        for user_id in dict.fromkeys(f.user_id for f in findings if f.user_id is not None):
            trail.touched(user_id, outcome=SupportAction.Outcome.PROBLEMS)
        counts = Counter(f.code for f in findings)
        trail.result = {"sweep": sweep.pk, "counts": dict(sorted(counts.items()))}
        errors = any(f.is_error for f in findings)
        trail.outcome = SupportAction.Outcome.PROBLEMS if errors else SupportAction.Outcome.OK
    transaction.on_commit(lambda: _after(sweep))
    result = SweepResult(
        sweep_id=sweep.pk,
        started_at=started,
        playbooks=names,
        findings=tuple(findings),
        dry_run=dry_run,
        stats=stats,
    )
    if codes:
        done = len(names)
        outcomes = fix_findings(
            sweep=sweep,
            codes=codes,
            actor=actor,
            dry_run=dry_run,
            progress=(lambda n, total: progress(done + n, done + total)) if progress else None,
            findings=[f for f in findings if f.code in codes],
        )
        result = replace(result, fixes=outcomes)
    return result


def fix_findings(
    *,
    sweep: Sweep | int,
    codes: Iterable[str],
    actor: Actor,
    dry_run: bool = False,
    progress: Progress | None = None,
    findings: list[Finding] | None = None,
) -> tuple[FixOutcome, ...]:
    """Fix the findings of `codes` that `sweep` kept (the Health page's bulk fix), or the given
    `findings` of it. A real run is refused whole, before any call, when the actor may not apply
    one of the fixes it needs."""
    sweep = sweep if isinstance(sweep, Sweep) else get_sweep(sweep)
    codes = parse_codes(codes)
    if findings is None:
        findings = list(stored_findings(sweep, codes=codes))
    calls, left = plan_fixes(findings)
    inputs = {"sweep": sweep.pk, "fix": list(codes), "dry_run": dry_run}
    if not dry_run:
        _require_fix_permissions((f.fix for f in findings), actor, inputs)
    outcomes: list[FixOutcome] = []
    for done, call in enumerate(calls, start=1):
        outcomes.append(run_call(call, actor, dry_run=dry_run))
        if progress is not None:
            progress(done, len(calls))
    outcomes += left
    Sweep.objects.filter(pk=sweep.pk).update(
        fix_codes=list(codes), fix_dry_run=dry_run, fixes=[o.as_dict() for o in outcomes]
    )
    return tuple(outcomes)


def require_fixes_allowed(
    codes: Iterable[str], actor: Actor, inputs: dict[str, Any] | None = None
) -> None:
    """Refuse (and record the refusal) unless the actor may apply every fix these problem codes
    name: what a door checks before it hands a real bulk fix to a background job."""
    codes = parse_codes(codes)
    fixes = (name for code in codes for name in FIXES_OF_CODE.get(code, ()))
    _require_fix_permissions(fixes, actor, inputs or {"fix": list(codes)})


def too_big_for_a_request(playbooks: Iterable[str] | None = None) -> bool:
    """A sweep checking more than SWEEP_IN_REQUEST_LIMIT learners and contracts runs as a
    background job from the API and the Health page, whatever its fixes."""
    names = parse_playbooks(playbooks)
    return sum(PLAYBOOKS[n].size() for n in names) > settings.SWEEP_IN_REQUEST_LIMIT


# -- reading kept sweeps ---------------------------------------------------------------------------


def get_sweep(sweep_id: int | str | None = None) -> Sweep:
    """The sweep of this id, or the latest one."""
    if sweep_id in (None, ""):
        sweep = Sweep.objects.order_by("-started_at", "-id").first()
        if sweep is None:
            raise SupportError(NO_SWEEP, kind=ErrorKind.NOT_FOUND)
        return sweep
    try:
        return Sweep.objects.get(pk=int(sweep_id))
    except (Sweep.DoesNotExist, ValueError, TypeError):
        raise SupportError(SWEEP_NOT_FOUND.format(id=sweep_id), kind=ErrorKind.NOT_FOUND) from None


def stored_findings(
    sweep: Sweep, *, codes: Iterable[str] = (), playbooks: Iterable[str] = ()
) -> Iterator[Finding]:
    if sweep.findings_pruned:
        raise SupportError(FINDINGS_PRUNED.format(id=sweep.pk), kind=ErrorKind.CONFLICT)
    rows = FindingRow.objects.filter(sweep=sweep).order_by("id")
    if codes:
        rows = rows.filter(code__in=list(codes))
    if playbooks:
        rows = rows.filter(playbook__in=list(playbooks))
    for row in rows.iterator(chunk_size=WRITE_BATCH):
        yield Finding(
            playbook=row.playbook,
            code=row.code,
            severity=row.severity,
            message=row.message,
            fix=row.fix or None,
            user_id=row.user_id,
            username=row.username or None,
            target=row.target,
            subject=tuple(sorted(row.subject.items())),
        )


def stored_result(
    sweep: Sweep, *, codes: Iterable[str] = (), playbooks: Iterable[str] = ()
) -> SweepResult:
    """A kept sweep as `run_sweep` returned it (its fixes as last run), filtered."""
    codes, playbooks = parse_codes(codes), parse_playbooks(playbooks) if playbooks else ()
    findings = tuple(stored_findings(sweep, codes=codes, playbooks=playbooks))
    return SweepResult(
        sweep_id=sweep.pk,
        started_at=sweep.started_at,
        playbooks=tuple(sweep.playbooks),
        findings=findings,
        dry_run=sweep.fix_dry_run,
        fixes=tuple(FixOutcome(**{**o, "codes": tuple(o["codes"])}) for o in sweep.fixes),
        stats=sweep.stats,
    )


def previous_counts(sweep: Sweep) -> dict[str, dict[str, int] | None]:
    """Per playbook, the counts of the latest earlier sweep that covered it (None: none did)."""
    earlier = Sweep.objects.filter(started_at__lte=sweep.started_at).exclude(pk=sweep.pk)
    earlier = earlier.filter(finished_at__isnull=False).order_by("-started_at", "-id")
    found: dict[str, dict[str, int] | None] = dict.fromkeys(sweep.playbooks)
    for row in earlier.values("playbooks", "counts")[:50]:
        for name in row["playbooks"]:
            if name in found and found[name] is None:
                found[name] = row["counts"].get(name, {})
        if all(v is not None for v in found.values()):
            break
    return found


# -- the steps -------------------------------------------------------------------------------------


def _refuse_unless(
    allowed: bool, actor: Actor, inputs: dict[str, Any], error: SupportError | None = None
) -> None:
    """A refusal goes through `support_action` like any other, so that it is recorded."""
    if allowed:
        return
    with support_action(SWEEP, actor=actor, inputs=inputs):
        if error is not None:
            raise error


def _require_fix_permissions(fixes: Iterable[str | None], actor: Actor, inputs: dict) -> None:
    try:
        require_permissions(fixes, actor)
    except SupportError as exc:
        _refuse_unless(False, actor, inputs, exc)


def _find(
    names: tuple[str, ...], now: dt.datetime, progress: Progress | None
) -> tuple[list[Finding], dict[str, Any]]:
    findings: list[Finding] = []
    stats: dict[str, Any] = {}
    for done, name in enumerate(names, start=1):
        found = SweepStats()
        began = time.monotonic()
        findings.extend(PLAYBOOKS[name].find(stats=found, now=now))
        stats[name] = {
            "checked": found.counts,
            "notes": found.notes,
            "seconds": round(time.monotonic() - began, 3),
        }
        if progress is not None:
            progress(done, len(names))
    return findings, stats


def _keep(
    names: tuple[str, ...],
    findings: list[Finding],
    stats: dict[str, Any],
    actor: Actor,
    started: dt.datetime,
) -> Sweep:
    counts: dict[str, dict[str, int]] = {name: {} for name in names}
    for f in findings:
        counts[f.playbook][f.code] = counts[f.playbook].get(f.code, 0) + 1
    errors = sum(1 for f in findings if f.is_error)
    sweep = Sweep.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        actor_label=actor.label[:200],
        door=actor.door,
        playbooks=list(names),
        counts={n: dict(sorted(c.items())) for n, c in counts.items()},
        errors=errors,
        warnings=len(findings) - errors,
        stats=stats,
    )
    _write_findings(sweep, findings)
    return sweep


COPY_FINDINGS = (
    "COPY {table} (sweep_id, playbook, code, severity, message, fix, user_id, username, target,"
    " subject) FROM STDIN"
)


def _write_findings(sweep: Sweep, findings: list[Finding]) -> None:
    """On PostgreSQL one COPY (a hundred thousand findings in a second or two, where INSERTs
    take many); elsewhere INSERTs in batches."""
    rows = (
        (
            sweep.pk,
            f.playbook,
            f.code,
            f.severity,
            f.message,
            f.fix or "",
            f.user_id,
            (f.username or "")[:150],
            f.target[:300],
            f.subject_dict(),
        )
        for f in findings
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy = COPY_FINDINGS.format(table=FindingRow._meta.db_table)
            with cursor.cursor.copy(copy) as stream:
                for row in rows:
                    stream.write_row((*row[:-1], json.dumps(row[-1], default=str)))
        return
    fields = ("sweep_id", "playbook", "code", "severity", "message", "fix", "user_id")
    fields += ("username", "target", "subject")
    for chunk in chunks(rows, WRITE_BATCH):
        FindingRow.objects.bulk_create(
            [FindingRow(**dict(zip(fields, row, strict=True))) for row in chunk]
        )


def _after(sweep: Sweep) -> None:
    """Once the sweep is kept: older findings pruned, new errors announced."""
    from console.sweeps.notify import announce_new_errors

    keep = settings.SWEEP_KEEP_FINDINGS
    old = Sweep.objects.filter(findings_pruned=False).order_by("-started_at", "-id")[keep:]
    old_ids = list(old.values_list("pk", flat=True))
    if old_ids:
        with transaction.atomic():
            FindingRow.objects.filter(sweep_id__in=old_ids).delete()
            Sweep.objects.filter(pk__in=old_ids).update(findings_pruned=True)
    try:
        announce_new_errors(sweep)
    except Exception as exc:  # noqa: BLE001 - a mail server down must not fail the sweep
        log.error("sweep %s: the new-errors mail was not sent: %s", sweep.pk, type(exc).__name__)
