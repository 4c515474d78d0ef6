"""The organization a support page asks for, picked from the learner's own: the ones they are
in, or belong in by contract or email domain (never a list of every organization)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When

from orgs.models import Organization, UserOrganizationMapping
from orgs.selectors import IDENTIFIER_MAX, organizations_to_check
from support_tools.errors import SupportError
from support_tools.text import clean_text

NO_ORGANIZATION_TO_PICK = (
    "This learner is in no organization, and no organization's email domains or contracts "
    "include them: there is none to pick. Open the page from the organization's membership "
    "list to name one."
)
PICK_HELP = (
    "The learner's organizations: the ones they are in, or belong in by contract or email domain."
)


def _could_name_one(text: str) -> bool:
    """False for text no organization's name holds (too long, NUL, control characters, lone
    surrogates): it is refused without a query, which PostgreSQL would answer with an error."""
    try:
        clean_text(text, field="organization", max_length=IDENTIFIER_MAX)
    except SupportError:
        return False
    return True


def learner_organizations(user_id: int, *, named: str | None = None) -> QuerySet[Organization]:
    """The learner's organizations, their AMC-admin and active ones first; plus the one a link
    named (`?org=`), so that a page opened for another organization still shows it."""
    user = get_user_model().objects.filter(pk=user_id).first()
    pks = [org.pk for org in organizations_to_check(user)] if user is not None else []
    if named and _could_name_one(named):
        pks += list(
            Organization.objects.filter(short_name__iexact=named.strip()).values_list(
                "pk", flat=True
            )
        )
    ranked = {
        m["organization_id"]: i
        for i, m in enumerate(
            UserOrganizationMapping.objects.filter(user_id=user_id)
            .order_by("-is_amc_admin", "-is_active", "organization__short_name")
            .values("organization_id")
        )
    }
    rank = Case(
        *[When(pk=pk, then=Value(i)) for pk, i in ranked.items()],
        default=Value(len(ranked)),
        output_field=IntegerField(),
    )
    return (
        Organization.objects.filter(pk__in=pks).annotate(rank=rank).order_by("rank", "short_name")
    )


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.short_name})"

    def to_python(self, value: Any) -> Organization | None:
        # As the services read it: the short name or the name, in any case.
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not _could_name_one(text):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        org = (
            self.queryset.filter(short_name__iexact=text).first()
            or self.queryset.filter(name__iexact=text).first()
        )
        if org is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return org


def organization_field(user_id: int, *, named: str | None = None) -> OrganizationChoiceField:
    """A select of the learner's organizations, by short name."""
    queryset = learner_organizations(user_id, named=named)
    return OrganizationChoiceField(
        queryset=queryset,
        to_field_name="short_name",
        label="Organization",
        empty_label=None if queryset.exists() else "(none)",
        help_text=PICK_HELP if queryset.exists() else NO_ORGANIZATION_TO_PICK,
    )
