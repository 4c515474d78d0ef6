"""The AMC playbook's admin pages: diagnose, ensure tokens, make AMC admin (one user each)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import urlencode

from orgs.amc.diagnosis import DIAGNOSE_AMC_USER, FIX_ADMIN, FIX_TOKEN, diagnose_amc_user
from orgs.amc.services import (
    ENSURE_AMC_ADMIN,
    ENSURE_AMC_TOKEN,
    ensure_amc_admin,
    ensure_amc_token,
)
from orgs.models import UserOrganizationMapping
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage, DiagnosisPage

User = get_user_model()


class AmcOrgForm(forms.Form):
    org = forms.CharField(
        label="Organization", help_text="Short name or name of the user's organization."
    )


class _UserPage:
    """Pages about one user, whose id is in the URL."""

    kwargs: dict[str, Any]

    def subject(self) -> Any:
        return get_object_or_404(User, pk=self.kwargs["user_id"])

    def initial(self, request: Any, **url_kwargs: Any) -> dict[str, Any]:
        mapping = (
            UserOrganizationMapping.objects.filter(user_id=url_kwargs["user_id"])
            .select_related("organization")
            .order_by("-is_amc_admin", "-is_active")
            .first()
        )
        return {"org": mapping.organization.short_name} if mapping else {}


class DiagnoseAmcPage(_UserPage, DiagnosisPage):
    name = "diagnose-amc-user"
    route = "users/<int:user_id>/amc/"
    title = "Diagnose the AMC spinning wheel"
    user_tool = "Diagnose AMC"
    action = DIAGNOSE_AMC_USER
    intro = "Checks the user's organization and site mappings, OAuth tokens and AMC account."

    class form_class(forms.Form):  # noqa: N801 - the page's form
        check = forms.BooleanField(widget=forms.HiddenInput, initial=True, required=False)

    def _bound_from_query(self, request: Any, initial: dict[str, Any]) -> forms.Form:
        return self.form_class(data={"check": True})  # nothing to ask: run at once

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_amc_user(user=self.subject(), actor=actor)

    def fix_url(self, problem: dict, result: dict, data: dict) -> str | None:
        page = {FIX_TOKEN: "support:ensure-amc-token", FIX_ADMIN: "support:ensure-amc-admin"}
        if problem["fix"] not in page:
            return None
        url = reverse(page[problem["fix"]], kwargs={"user_id": self.kwargs["user_id"]})
        orgs = result.get("organizations") or []
        return f"{url}?{urlencode({'org': orgs[0]})}" if orgs else url


class EnsureAmcTokenPage(_UserPage, ActionPage):
    name = "ensure-amc-token"
    route = "users/<int:user_id>/amc/ensure-token/"
    title = "Ensure AMC tokens (fix the spinning wheel)"
    user_tool = "Ensure AMC tokens"
    intro = (
        "Makes sure the organization and site mappings exist, keeps or creates a usable access "
        "token and its refresh token, and writes both on the user's AMC account."
    )
    action = ENSURE_AMC_TOKEN
    form_class = AmcOrgForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return ensure_amc_token(
            user=self.subject(), organization=data["org"], actor=actor, dry_run=dry_run
        )


class EnsureAmcAdminPage(_UserPage, ActionPage):
    name = "ensure-amc-admin"
    route = "users/<int:user_id>/amc/ensure-admin/"
    title = "Make the user an AMC admin"
    user_tool = "Make AMC admin"
    intro = "Makes the organization and site mappings exist, active and AMC-admin."
    action = ENSURE_AMC_ADMIN
    form_class = AmcOrgForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return ensure_amc_admin(
            user=self.subject(), organization=data["org"], actor=actor, dry_run=dry_run
        )


PAGES = [DiagnoseAmcPage, EnsureAmcTokenPage, EnsureAmcAdminPage]
