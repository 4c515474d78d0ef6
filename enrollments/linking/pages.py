"""The linking playbook's admin page: paste or upload a sheet, preview, apply.

A sheet of up to BULK_SYNC_LIMIT rows runs in the request; a longer one becomes a background
job (enrollments/linking/jobs.py) and the page redirects to the job's page, which shows its
progress, then the same summary-first result (enrollments/link_result.html), with an Apply
that runs the previewed sheet for real as another job.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from enrollments.linking.csv_rows import parse_link_rows
from enrollments.linking.jobs import apply_link_job, start_link_job
from enrollments.linking.rows import ERROR, LINKED, RELINKED, UNCHANGED
from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS, link_program_enrollments
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage
from support_tools.errors import SupportError
from support_tools.jobs.pages import SAMPLES, column_labels

NO_CSV_GIVEN = "Paste the rows or upload a CSV file."
CSV_GIVEN_TWICE = (
    "You pasted rows in the box and also chose a CSV file, so nothing was run. Use one or the "
    "other: empty the box to use the file, or remove the file to use the pasted rows."
)


class LinkProgramEnrollmentsForm(forms.Form):
    program_uuid = forms.UUIDField(label="Program UUID")
    csv_text = forms.CharField(
        label="Rows",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="CSV lines external_user_key,username; a header row is optional.",
    )
    csv_file = forms.FileField(
        label="or a CSV file",
        required=False,
        help_text="Use either the box or a file, not both. An uploaded file's rows are "
        "copied into the box above by the preview, so that Apply links exactly the rows you saw.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("csv_file")
        if upload and (data.get("csv_text") or "").strip():
            # Never pick one silently: the person would not know which rows were run.
            raise forms.ValidationError(CSV_GIVEN_TWICE)
        raw: bytes | str = upload.read() if upload else (data.get("csv_text") or "")
        if not raw.strip():
            raise forms.ValidationError(NO_CSV_GIVEN)
        try:
            data["pairs"] = parse_link_rows(raw)
        except SupportError as exc:
            raise forms.ValidationError(exc.message) from None
        if upload:
            self.data = self.data.copy()
            self.data["csv_text"] = raw.decode("utf-8").removeprefix("\ufeff")
        return data


class LinkProgramEnrollmentsPage(ActionPage):
    name = "link-program-enrollments"
    route = "enrollments/link/"
    title = "Link program enrollments"
    intro = (
        "Connects the university's external user keys to platform users. Preview first: the "
        "dry run shows, row by row, what would be linked, relinked (moved from another user), "
        "left unchanged or refused; then Apply."
    )
    action = LINK_PROGRAM_ENROLLMENTS
    form_class = LinkProgramEnrollmentsForm
    template_name = "enrollments/link_page.html"

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return link_program_enrollments(
            program_uuid=data["program_uuid"], pairs=data["pairs"], actor=actor, dry_run=dry_run
        )

    def render(self, request: HttpRequest, form: forms.Form, **extra: Any) -> HttpResponse:
        return super().render(request, form, sync_limit=settings.BULK_SYNC_LIMIT, **extra)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if "job" in request.POST:  # Apply on the page of a previewed big sheet
            self.check_view(request)
            return self._apply_job(request, request.POST["job"])
        return super().post(request, **kwargs)

    def _run(self, request: HttpRequest, form: forms.Form, *, dry_run: bool) -> HttpResponse:
        data = form.cleaned_data
        try:
            if len(data["pairs"]) > settings.BULK_SYNC_LIMIT:
                job = start_link_job(
                    program_uuid=data["program_uuid"],
                    pairs=data["pairs"],
                    actor=self.actor(request),
                    dry_run=dry_run,
                )
                return redirect("support:job", job.pk)
            result = self.run(data, self.actor(request), dry_run=dry_run).as_dict()
        except Exception as exc:  # noqa: BLE001 - every failure gets the admin's own page
            return self.failed(request, form, exc)
        return self.render(
            request,
            form,
            result=result,
            preview=dry_run,
            applied=not dry_run,
            **result_context(result),
        )

    def _apply_job(self, request: HttpRequest, job_id: str) -> HttpResponse:
        try:
            job = apply_link_job(job_id, actor=self.actor(request))
        except SupportError as exc:
            messages.error(request, exc.message)
            try:  # back to the preview's page, which says what it is
                return redirect("support:job", uuid.UUID(job_id))
            except ValueError:
                return redirect("support:" + self.name)
        return redirect("support:job", job.pk)


# Errors first, then the result's own order (as on a job's page).
COUNT_ORDER = (ERROR, LINKED, RELINKED, UNCHANGED)


def result_context(result: dict[str, Any]) -> dict[str, Any]:
    """What enrollments/link_result.html shows of a result run in the request (all its rows:
    at most BULK_SYNC_LIMIT)."""
    results = result["results"]
    rows = [{"n": i, **row} for i, row in enumerate(results, start=1)]
    return {
        "counts": {status: result["counts"].get(status, 0) for status in COUNT_ORDER},
        "rows": rows,
        "columns": column_labels(rows),
        "samples": {
            status: [row for row in results if row["status"] == status][:SAMPLES]
            for status in (ERROR, RELINKED)
        },
    }


PAGES = [LinkProgramEnrollmentsPage]


def link_page_url(
    program_uuid: Any, pairs: Iterable[tuple[str, str]], *, next_url: str | None = None
) -> str:
    """The linking page with these rows filled in: it opens on their dry run, with Apply.
    Diagnoses offer it as the fix of a learner's program (`link_program_enrollments`)."""
    rows = io.StringIO()
    csv.writer(rows, lineterminator="\n").writerows(pairs)
    query = {"program_uuid": str(program_uuid), "csv_text": rows.getvalue()}
    if next_url:
        query["next"] = next_url
    return f"{reverse('support:' + LinkProgramEnrollmentsPage.name)}?{urlencode(query)}"
