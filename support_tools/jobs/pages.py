"""The admin page of a background job: its progress while it runs, then its result.

While the job runs, the page polls `GET /api/v1/jobs/<id>?rows=false` (static/support_tools/
jobs/job.js: no inline script) to move its progress bar, and reloads itself when the job has
finished. The result is rendered by the template `jobs/<action>.html` when an app provides
one (the base imports no app), else by a generic table; its rows are paged and filtered by
status from the rows the job kept, and downloaded as CSV by streaming them.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode
from django.views import View

from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.jobs import service
from support_tools.jobs.api import job_url
from support_tools.jobs.models import Job
from support_tools.results import format_when

ROWS_PER_PAGE = 100
SAMPLES = 20  # rows of each status shown above the table (a result's errors, its relinks)
CANCEL_ASKED = "Cancel asked: the job stops after its current step; what was done stays done."
FIRST = "error"  # listed first wherever statuses are listed


def urls() -> list[URLPattern]:
    """The job page and its CSV, mounted with the other support pages (console/pages.py)."""
    return [
        path("jobs/<uuid:job_id>/", admin.site.admin_view(JobPage.as_view()), name="job"),
        path("jobs/<uuid:job_id>/results.csv", admin.site.admin_view(job_csv), name="job-csv"),
    ]


def _job(request: HttpRequest, job_id: uuid.UUID) -> Job:
    try:
        return service.get_job(job_id, actor=Actor.for_user(request.user, door="admin"))
    except SupportError as exc:
        if exc.kind == ErrorKind.NOT_FOUND:
            raise Http404(exc.message) from None
        raise PermissionDenied(exc.message) from None


def statuses_in_order(job: Job, counts: dict[str, int]) -> list[str]:
    """Errors first, then the result's own order of statuses, then any other."""
    order = [FIRST, *((job.result or {}).get("counts") or {})]
    known = [s for s in dict.fromkeys(order) if s in counts]
    return known + sorted(s for s in counts if s not in known)


class JobPage(View):
    def get(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        job = _job(request, job_id)
        status = request.GET.get("status", "")
        counts = service.status_counts(job)
        page = Paginator(service.job_rows(job, status=status or None), ROWS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        here = reverse("support:job", args=[job.pk])
        rows = [{"n": r.index + 1, **service.in_order(job, r.data)} for r in page]
        context = {
            **admin.site.each_context(request),
            "title": f"Background job: {job.action.replace('_', ' ')}",
            "job": job,
            "started": format_when(job.created_at),
            "percent": _percent(job.progress_done, job.progress_total),
            "poll_url": f"{job_url(job.pk)}?rows=false",
            "result": job.result,
            "counts": {s: counts[s] for s in statuses_in_order(job, counts)},
            "total_rows": sum(counts.values()),
            "rows": rows,
            "columns": column_labels(rows),
            "page_obj": page,
            "page_url": f"{here}?{urlencode({'status': status})}&page="
            if status
            else f"{here}?page=",
            "status": status,
            "filters": _filters(here, counts, status, job),
            "samples": {
                s: [
                    service.in_order(job, r.data) for r in service.job_rows(job, status=s)[:SAMPLES]
                ]
                for s in counts
                if s != status
            },
            "csv_url": reverse("support:job-csv", args=[job.pk])
            + (f"?{urlencode({'status': status})}" if status else ""),
            "result_template": select_template(
                [f"jobs/{job.action}.html", "support_tools/jobs/result.html"]
            ),
        }
        return TemplateResponse(request, "support_tools/jobs/job.html", context)

    def post(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        job = _job(request, job_id)
        if "cancel" in request.POST:
            try:
                service.cancel_job(job.pk, actor=Actor.for_user(request.user, door="admin"))
            except SupportError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, CANCEL_ASKED)
        return redirect("support:job", job.pk)


def column_labels(rows: list[dict[str, Any]]) -> list[str]:
    """The headers of a table of rows (each `{"n": row number, ...its data}`)."""
    return [key.replace("_", " ").capitalize() for key in (rows[0] if rows else {}) if key != "n"]


def _percent(done: int, total: int) -> int:
    return 100 if total <= 0 else min(100, done * 100 // total)


def _filters(here: str, counts: dict[str, int], status: str, job: Job) -> list[dict[str, Any]]:
    links = [{"status": "", "count": sum(counts.values()), "url": here, "active": not status}]
    for s in statuses_in_order(job, counts):
        url = f"{here}?{urlencode({'status': s})}"
        links.append({"status": s, "count": counts[s], "url": url, "active": s == status})
    return links


# A spreadsheet runs a cell that starts with one of these as a formula: such a cell (an external
# key from a registrar's sheet, a message quoting one) is written with a leading quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written: csv.writer then yields lines one by one."""

    def write(self, value: str) -> str:
        return value


def job_csv(request: HttpRequest, job_id: uuid.UUID) -> StreamingHttpResponse:
    """The job's kept rows as CSV (all, or those of ?status=), streamed."""
    job = _job(request, job_id)
    rows = service.job_rows(job, status=request.GET.get("status") or None)
    first = rows.values_list("data", flat=True).first() or {}
    columns = job.row_columns or list(first)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for data in rows.values_list("data", flat=True).iterator(chunk_size=2000):
            yield writer.writerow([csv_cell(data.get(c, "")) for c in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"{job.action}-{str(job.pk)[:8]}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
