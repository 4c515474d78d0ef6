"""Helpers of the membership tests: learners on both sides, and reading results."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY

from orgs.models import Organization
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
