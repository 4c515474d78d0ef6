"""Admin doors of the org-membership playbook (listed by console/pages.py).

"Diagnose membership" on every user's page and on each organization membership (a link column
and an action) shows the checklist; each problem with a fix links to the repair page, which
previews the fix (a dry run) and applies it only on confirmation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.views import View

from orgs.choices import organization_field
from orgs.membership import (
    DIAGNOSE_ORG_MEMBERSHIP,
    FIX_LABELS,
    REPAIR_ORG_MEMBERSHIP,
    WORDING,
    Fix,
    diagnose_org_membership,
    permission_for,
    repair_org_membership,
)
from orgs.models import Organization, UserOrganizationMapping
from support_tools.actors import Actor
from support_tools.doors.pages import ActionPage, DiagnosisPage
from support_tools.errors import ErrorKind, SupportError

User = get_user_model()
NO_SUCH_USER = "No user has the id {user_id}."
ONE_USER_PLEASE = "Choose the memberships of one learner to diagnose: {count} learners selected."


class MembershipForm(forms.Form):
    org = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("short_name"),
        to_field_name="short_name",
        label="Organization",
    )


class RepairForm(MembershipForm):
    fix = forms.ChoiceField(
        choices=[("", "Every safe fix")] + [(f.value, FIX_LABELS[f.value]) for f in Fix],
        required=False,
        help_text="Fixes changing Keycloak need the permission to repair Keycloak memberships.",
    )


def diagnose_url(user_id: int, org: str | None = None) -> str:
    url = reverse("support:diagnose-org-membership", kwargs={"user_id": user_id})
    return f"{url}?{urlencode({'org': org})}" if org else url


class _LearnerOrganizations:
    """The organization is picked from the learner's own (and the one a link names)."""

    kwargs: dict[str, Any]
    form_class: type[forms.Form]

    def make_form(self, **kwargs: Any) -> forms.Form:
        form = self.form_class(**kwargs)
        named = (kwargs.get("data") or {}).get("org")
        form.fields["org"] = organization_field(self.kwargs["user_id"], named=named)
        return form


def _learner(page: View) -> Any:
    """The learner named by the page's URL (never by a form field)."""
    user = User.objects.filter(pk=page.kwargs["user_id"]).first()
    if user is None:
        raise SupportError(
            NO_SUCH_USER.format(user_id=page.kwargs["user_id"]), kind=ErrorKind.NOT_FOUND
        )
    return user


class DiagnoseMembershipPage(_LearnerOrganizations, DiagnosisPage):
    name = "diagnose-org-membership"
    route = "orgs/membership/<int:user_id>/diagnose/"
    title = "Diagnose membership"
    user_tool = "Diagnose membership"
    intro = (
        "Why a learner is missing from an organization or its contracts: the expected "
        "membership, Keycloak (when the organization carries an SSO id) and the local records."
    )
    action = DIAGNOSE_ORG_MEMBERSHIP
    wording = WORDING
    form_class = MembershipForm

    def may_apply_fix(self, actor: Actor, fix: str) -> bool:
        # Each fix has its own permission: Keycloak's need more than the local ones.
        return fix in set(Fix) and actor.has_perm(permission_for(Fix(fix)))

    def run(self, data: dict[str, Any], actor: Actor) -> Any:
        return diagnose_org_membership(user=_learner(self), organization=data["org"], actor=actor)

    def fix_url(
        self, problem: dict[str, Any], result: dict[str, Any], data: dict[str, Any]
    ) -> str | None:
        if not problem.get("fix"):
            return None
        url = reverse("support:repair-org-membership", kwargs={"user_id": self.kwargs["user_id"]})
        return f"{url}?{urlencode({'org': data['org'].short_name, 'fix': problem['fix']})}"


class RepairMembershipPage(_LearnerOrganizations, ActionPage):
    name = "repair-org-membership"
    route = "orgs/membership/<int:user_id>/repair/"
    title = "Repair membership"
    intro = (
        "The preview below is a dry run: Keycloak is only read. Apply to make the changes; the "
        "outcome lists each fix as done or skipped (and why). A repair Keycloak stops part-way "
        "is an error, which says what Keycloak had done."
    )
    action = REPAIR_ORG_MEMBERSHIP
    wording = WORDING
    form_class = RepairForm

    def run(self, data: dict[str, Any], actor: Actor, *, dry_run: bool) -> Any:
        return repair_org_membership(
            user=_learner(self),
            organization=data["org"],
            fixes=[data["fix"]] if data.get("fix") else None,
            actor=actor,
            dry_run=dry_run,
        )


PAGES = [DiagnoseMembershipPage, RepairMembershipPage]


# -- the organization membership admin: a link per row and an action -------------------------


@admin.display(description="membership")
def diagnose_link(mapping: UserOrganizationMapping) -> str:
    return format_html(
        '<a href="{}">Diagnose</a>', diagnose_url(mapping.user_id, mapping.organization.short_name)
    )


@admin.action(description="Diagnose membership", permissions=["view"])
def diagnose_membership(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: Any
) -> HttpResponseRedirect | None:
    pairs = sorted(set(queryset.values_list("user_id", "organization__short_name")))
    users = {user_id for user_id, _ in pairs}
    if len(users) != 1:
        messages.error(request, ONE_USER_PLEASE.format(count=len(users)))
        return None
    user_id, org_id = pairs[0]
    return HttpResponseRedirect(diagnose_url(user_id, org_id if len(pairs) == 1 else None))
