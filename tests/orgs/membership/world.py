"""Helpers of the membership tests: learners on both sides, and reading results."""

from __future__ import annotations

import uuid
from dataclasses import replace
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model

from orgs.keycloak import KeycloakOrganization, KeycloakUser
from orgs.membership.inspect import KeycloakStatus, MembershipState
from orgs.models import Organization, UserOrganizationMapping
from tests.factories import OrganizationFactory, UserFactory


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


def problem(result, code):
    return next(p for p in result.problems if p.code == code)


def statuses(result) -> dict[str, str]:
    return {o.fix: o.status for o in result.outcomes}


def outcome(result, fix):
    return next(o for o in result.outcomes if o.fix == fix)


def local_org(kc_org, **kwargs) -> Organization:
    """The local organization that the Keycloak organization `kc_org` controls."""
    return OrganizationFactory(
        name=kc_org.name,
        short_name=kc_org.alias,
        sso_organization_id=kc_org.id,
        email_domains=[kc_org.domain],
        **kwargs,
    )


class Learner:
    """A local user and (unless `in_kc` is false) their Keycloak account of the same email."""

    def __init__(self, kc, kc_org, *, password=False, member=False, domain=None, in_kc=True):
        self.email = f"{kc._next('learner')}@{domain or kc_org.domain}"
        self.user = UserFactory(username=self.email.split("@")[0], email=self.email.upper())
        self.kc_user = kc.user(self.email, password=password) if in_kc else None
        if member:
            kc.add_member(kc_org, self.kc_user)


def django_session_for(user) -> str:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store.create()
    return store.session_key


def a_state(**changes) -> MembershipState:
    """A learner of a Keycloak-controlled organization as the read would find them when all is
    well, built by hand (nothing saved); `changes` replace fields."""
    org = Organization(
        pk=1,
        short_name="acme",
        name="Acme",
        sso_organization_id=uuid.UUID(int=1),
        email_domains=["acme.test"],
    )
    user = get_user_model()(pk=1, username="ann", email="ann@acme.test")
    state = MembershipState(
        user=user,
        organization=org,
        email_domain="acme.test",
        local_domains=("acme.test",),
        keycloak_status=KeycloakStatus.CHECKED,
        kc_org=KeycloakOrganization(
            id="kc-acme", name="Acme", alias="acme", domains=("acme.test",)
        ),
        kc_user=KeycloakUser(id="kc-ann", username="ann", email="ann@acme.test", enabled=True),
        kc_member=True,
        kc_sessions=0,
        mapping=UserOrganizationMapping(user=user, organization=org, is_active=True),
    )
    return replace(state, **changes)
