"""The program-enrollment diagnosis's admin page: one learner's programs, checked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404

from enrollments.linking.pages import link_page_url
from enrollments.linking.service import LINK_PROGRAM_ENROLLMENTS
from enrollments.programs.diagnosis import (
    DIAGNOSE_PROGRAM_ENROLLMENTS,
    FIX_LINK,
    ProgramDiagnosis,
    diagnose_program_enrollments,
)
from enrollments.programs.labels import WORDING
from support_tools.actors import Actor
from support_tools.doors.pages import DiagnosisPage

User = get_user_model()


class DiagnoseProgramEnrollmentsPage(DiagnosisPage):
    name = "diagnose-program-enrollments"
    route = "users/<int:user_id>/programs/"
    title = "Diagnose program enrollments"
    user_tool = "Diagnose programs"
    action = DIAGNOSE_PROGRAM_ENROLLMENTS
    wording = WORDING
    fix_actions = {FIX_LINK: LINK_PROGRAM_ENROLLMENTS}
    intro = (
        "Checks that each program course enrollment of the learner holds their course "
        "enrollment, active as the program says and in the masters track, and that no course "
        "role still waits on it."
    )

    class form_class(forms.Form):  # noqa: N801 - the page's form
        check = forms.BooleanField(widget=forms.HiddenInput, initial=True, required=False)

    def _bound_from_query(self, request: Any, initial: dict[str, Any]) -> forms.Form:
        return self.form_class(data={"check": True})  # nothing to ask: run at once

    def run(self, data: dict[str, Any], actor: Actor) -> ProgramDiagnosis:
        learner = get_object_or_404(User, pk=self.kwargs["user_id"])
        self.diagnosis = diagnose_program_enrollments(user=learner, actor=actor)
        return self.diagnosis

    def fix_url(self, problem: dict, result: dict, data: dict) -> str | None:
        program = self.diagnosis.program_of(problem)
        if problem["fix"] != FIX_LINK or program is None or not program.external_user_key:
            return None
        return link_page_url(
            program.program_uuid,
            [(program.external_user_key, result["user"])],
            next_url=self.request.get_full_path(),
        )


PAGES = [DiagnoseProgramEnrollmentsPage]
