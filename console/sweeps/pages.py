"""The Health page (/admin/support/health/): the latest sweep's counts per playbook and problem
with the change since the sweep before, the trend, a drill-down to the findings (each linked to
its learner's console page), CSV export, and the bulk fix: a dry run first, then Apply.

A thin door: counting, fixing and reading are the service's (console/sweeps/service.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from console.sweeps.fixes import BULK_FIXES, FIX_PERMISSIONS, plan_fixes
from console.sweeps.jobs import ACTION
from console.sweeps.models import Finding, Sweep
from console.sweeps.playbooks import fix_label_of, severity_of, title_of
from console.sweeps.service import (
    fix_findings,
    get_sweep,
    previous_counts,
    require_fixes_allowed,
    run_sweep,
    stored_findings,
    too_big_for_a_request,
)
from support_tools.doors.pages import SupportPage
from support_tools.doors.wording import humanize
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs import service as jobs
from support_tools.permissions import ActionSpec

# Who may see users sees the page and the dry run; Apply needs a fix's own permission (each
# service checks it again).
FIX_FINDINGS = ActionSpec("fix_findings", preview="auth.view_user", apply=FIX_PERMISSIONS)
PER_PAGE = 100
TREND_LENGTH = 10
CSV_COLUMNS = ("playbook", "code", "severity", "user", "target", "message", "fix")
RAN = "Sweep {id} done. Errors: {errors}; warnings: {warnings}."
QUEUED = "The fixes run in the background (job {id}): {url}"
NOTHING_CHOSEN = "Choose the problems to fix."


class FixForm(forms.Form):
    sweep = forms.IntegerField(widget=forms.HiddenInput)
    codes = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, error_messages={"required": NOTHING_CHOSEN}
    )

    def __init__(self, *args: Any, fixable: list[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = [(c, title_of(c)) for c in fixable]


class HealthPage(SupportPage):
    name = "health"
    route = "health/"
    title = "Platform health"
    intro = (
        "Every diagnosis, run across the whole platform by the daily sweep: the accounts that "
        "will break, before their owners file a ticket."
    )
    action = FIX_FINDINGS
    form_class = FixForm
    template_name = "console/sweeps/health.html"

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.check_view(request)
        sweep = self._sweep(request)
        if sweep is not None and request.GET.get("format") == "csv":
            return self._csv(sweep, request)
        form = FixForm(fixable=_fixable(sweep), initial={"sweep": sweep.pk if sweep else None})
        return self.render(request, form, **self._context(request, sweep))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        self.check_view(request)
        actor = self.actor(request)
        if "run" in request.POST:
            try:
                if too_big_for_a_request():
                    return self._enqueue(request, None, [])
                result = run_sweep(actor=actor)
            except SupportError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(reverse("support:health"))
            sweep = Sweep.objects.get(pk=result.sweep_id)
            messages.success(
                request, RAN.format(id=sweep.pk, errors=sweep.errors, warnings=sweep.warnings)
            )
            return HttpResponseRedirect(reverse("support:health"))
        try:
            sweep = get_sweep(request.POST.get("sweep"))
        except SupportError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("support:health"))
        form = FixForm(data=request.POST, fixable=_fixable(sweep))
        context = self._context(request, sweep)
        if not form.is_valid():
            return self.render(request, form, **context)
        codes = form.cleaned_data["codes"]
        dry_run = "apply" not in request.POST
        try:
            if not dry_run and _calls(sweep, codes) > settings.BULK_SYNC_LIMIT:
                require_fixes_allowed(codes, actor)  # refused now, not by the job
                return self._enqueue(request, sweep, codes)
            outcomes = fix_findings(sweep=sweep, codes=codes, actor=actor, dry_run=dry_run)
        except SupportError as exc:  # refused (and audited): the page stays, with the sentence
            messages.error(request, exc.message)
            status = 403 if exc.kind == ErrorKind.PERMISSION else 200
            return self.render(request, form, status=status, **context)
        except Exception as exc:  # noqa: BLE001 - the admin's own page with the sentence
            return self.failed(request, form, exc)
        if not dry_run:
            changed = any(o.changed for o in outcomes)
            messages.success(
                request, "Done: changes applied." if changed else "Nothing needed changing."
            )
        return self.render(
            request,
            form,
            **context,
            outcomes=[_in_words(o.as_dict()) for o in outcomes],
            preview=dry_run,
            applied=not dry_run,
        )

    # -- parts ---------------------------------------------------------------------------------

    def _sweep(self, request: HttpRequest) -> Sweep | None:
        try:
            return get_sweep(request.GET.get("sweep"))
        except SupportError:
            return None

    def _context(self, request: HttpRequest, sweep: Sweep | None) -> dict[str, Any]:
        if sweep is None:
            return {"sweep": None}
        playbook, code = request.GET.get("playbook", ""), request.GET.get("code", "")
        context: dict[str, Any] = {
            "sweep": sweep,
            "rows": _count_rows(sweep),
            "trend": Sweep.objects.order_by("-started_at", "-id")[:TREND_LENGTH],
            "notes": [
                (name, note) for name, s in sweep.stats.items() for note in s.get("notes", [])
            ],
            "csv_url": "?" + urlencode(_query(sweep, playbook, code, format="csv")),
        }
        if (playbook or code) and not sweep.findings_pruned:
            rows = Finding.objects.filter(sweep=sweep).order_by("id")
            rows = rows.filter(playbook=playbook) if playbook else rows
            rows = rows.filter(code=code) if code else rows
            page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
            context["drill"] = {
                "playbook": playbook,
                "playbook_title": humanize(playbook),
                "code": code,
                "title": title_of(code, playbook) if code else "",
                "page": page,
                "findings": [_finding_row(f) for f in page.object_list],
            }
        return context

    def _csv(self, sweep: Sweep, request: HttpRequest) -> HttpResponse:
        playbook, code = request.GET.get("playbook"), request.GET.get("code")
        try:
            found = stored_findings(
                sweep, codes=[code] if code else (), playbooks=[playbook] if playbook else ()
            )
        except SupportError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("support:health"))
        response = StreamingHttpResponse(_csv_lines(found), content_type="text/csv")
        name = f"sweep-{sweep.pk}{'-' + code if code else ''}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def _enqueue(self, request: HttpRequest, sweep: Sweep | None, codes: list[str]) -> HttpResponse:
        """The fix of a kept sweep's findings, or (without a sweep) a whole new sweep."""
        actor = self.actor(request)
        if sweep is None:
            summary: dict[str, Any] = {"playbook": [], "fix": []}
            total = 0
        else:
            summary = {"sweep": sweep.pk, "fix": codes}
            total = _calls(sweep, codes)
        job = jobs.enqueue(ACTION, actor=actor, payload=summary, summary=summary, total=total)
        messages.success(request, QUEUED.format(id=job.pk, url=_job_url(job.pk)))
        return HttpResponseRedirect(reverse("support:health"))


def _in_words(outcome: dict[str, Any]) -> dict[str, Any]:
    """A fix's outcome for the page: its fix and problems in words (the JSON keeps codes)."""
    return {
        **outcome,
        "fix_label": fix_label_of(outcome["fix"]) if outcome.get("fix") else "",
        "titles": [title_of(code) for code in outcome.get("codes", ())],
        "status_label": str(outcome.get("status", "")).replace("_", " "),
    }


def _fixable(sweep: Sweep | None) -> list[str]:
    """The codes of the sweep whose findings a bulk fix can repair."""
    if sweep is None or sweep.findings_pruned:
        return []
    fixes = Finding.objects.filter(sweep=sweep, fix__in=list(BULK_FIXES))
    return sorted(set(fixes.values_list("code", flat=True)))


def _calls(sweep: Sweep, codes: list[str]) -> int:
    calls, _ = plan_fixes(stored_findings(sweep, codes=codes))
    return len(calls)


def _count_rows(sweep: Sweep) -> list[dict[str, Any]]:
    before = previous_counts(sweep)
    rows = []
    for playbook in sweep.playbooks:
        now = sweep.counts.get(playbook, {})
        was = before.get(playbook)
        for code in sorted(set(now) | set(was or {})):
            n = now.get(code, 0)
            rows.append(
                {
                    "playbook": playbook,
                    "playbook_title": humanize(playbook),
                    "code": code,
                    "title": title_of(code, playbook),
                    "severity": severity_of(code),
                    "count": n,
                    "previous": None if was is None else was.get(code, 0),
                    "change": None if was is None else n - was.get(code, 0),
                    "url": "?" + urlencode(_query(sweep, playbook, code)),
                }
            )
    return rows


def _query(sweep: Sweep, playbook: str, code: str, **extra: str) -> dict[str, Any]:
    query = {"sweep": sweep.pk, **extra}
    if playbook:
        query["playbook"] = playbook
    if code:
        query["code"] = code
    return query


def _finding_row(finding: Finding) -> dict[str, Any]:
    url = None
    if finding.user_id is not None:
        url = reverse("support:console-learner", kwargs={"user_id": finding.user_id})
    return {"finding": finding, "console_url": url}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(findings: Iterator[Any]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for f in findings:
        data = f.as_dict()
        yield writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])


def _cell(value: Any) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _job_url(job_id: Any) -> str:
    try:
        return reverse("support:job", args=[job_id])
    except NoReverseMatch:  # the jobs' admin page is someone else's, and may not exist yet
        return reverse("api-job", kwargs={"job_id": job_id})


PAGES: list[type[SupportPage]] = [HealthPage]
