"""The AMC playbook's admin pages: diagnose, ensure tokens, make AMC admin (one user each)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import urlencode

from orgs.amc.diagnosis import DIAGNOSE_AMC_USER, FIX_ADMIN, FIX_TOKEN, diagnose_amc_user
from orgs.amc.labels import WORDING
from orgs.amc.services import (
    ENSURE_AMC_ADMIN,
    ENSURE_AMC_TOKEN,
    ensure_amc_admin,
    ensure_amc_token,
)
from orgs.choices import learner_organizations, organization_field
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage, DiagnosisPage

User = get_user_model()

# A dry run cannot know the token Apply will make: its preview never shows a token tail.
NEW_TOKEN = "a new token (made when you apply)"


class AmcOrgForm(forms.Form):
    org = forms.CharField(label="Organization")


class _UserPage:
    """Pages about one user, whose id is in the URL."""

    kwargs: dict[str, Any]
    form_class: type[forms.Form]

    def subject(self) -> Any:
        return get_object_or_404(User, pk=self.kwargs["user_id"])

    def initial(self, request: Any, **url_kwargs: Any) -> dict[str, Any]:
        first = learner_organizations(url_kwargs["user_id"]).first()
        return {"org": first.short_name} if first else {}

    def make_form(self, **kwargs: Any) -> forms.Form:
        form = self.form_class(**kwargs)
        if "org" in form.fields:
            named = (kwargs.get("data") or {}).get("org")
            form.fields["org"] = organization_field(self.kwargs["user_id"], named=named)
        return form


class DiagnoseAmcPage(_UserPage, DiagnosisPage):
    name = "diagnose-amc-user"
    route = "users/<int:user_id>/amc/"
    title = "Diagnose the AMC spinning wheel"
    user_tool = "Diagnose AMC"
    action = DIAGNOSE_AMC_USER
    wording = WORDING
    fix_actions = {FIX_TOKEN: ENSURE_AMC_TOKEN, FIX_ADMIN: ENSURE_AMC_ADMIN}
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
    title = "Renew the AMC tokens (fix the spinning wheel)"
    user_tool = "Ensure AMC tokens"
    intro = (
        "Makes sure the organization and site mappings exist, keeps or creates a usable access "
        "token and its refresh token, and writes both on the user's AMC account."
    )
    action = ENSURE_AMC_TOKEN
    wording = WORDING
    form_class = AmcOrgForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return ensure_amc_token(
            user=self.subject(), organization=data["org"], actor=actor, dry_run=dry_run
        )

    def render(self, request: HttpRequest, form: forms.Form, **extra: Any) -> HttpResponse:
        result = extra.get("result")
        token = (result or {}).get("access_token") or {}
        if extra.get("preview") and token.get("created"):
            extra["result"] = {**result, "access_token": {**token, "token": NEW_TOKEN}}
        return super().render(request, form, **extra)


class EnsureAmcAdminPage(_UserPage, ActionPage):
    name = "ensure-amc-admin"
    route = "users/<int:user_id>/amc/ensure-admin/"
    title = "Make the user an AMC admin"
    user_tool = "Make AMC admin"
    intro = "Makes the organization and site mappings exist, active and AMC-admin."
    action = ENSURE_AMC_ADMIN
    wording = WORDING
    form_class = AmcOrgForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return ensure_amc_admin(
            user=self.subject(), organization=data["org"], actor=actor, dry_run=dry_run
        )


PAGES = [DiagnoseAmcPage, EnsureAmcTokenPage, EnsureAmcAdminPage]
