"""The linking playbook's admin page: paste or upload a sheet, preview, apply."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.http import urlencode

from enrollments.linking.csv_rows import parse_link_rows
from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS, link_program_enrollments
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage
from support_tools.errors import SupportError

NO_CSV_GIVEN = "Paste the rows or upload a CSV file."


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
        help_text="An uploaded file's rows are copied into the box above by the preview, "
        "so that Apply links exactly the rows you saw.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("csv_file")
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

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return link_program_enrollments(
            program_uuid=data["program_uuid"], pairs=data["pairs"], actor=actor, dry_run=dry_run
        )


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
