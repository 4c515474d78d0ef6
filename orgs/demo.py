"""Demo data of the orgs app: AMC admins in every broken state, enrollment codes and contracts,
and the local side of the demo Keycloak's organizations."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.contrib.sites.models import Site
from django.utils import timezone

from accounts.demo import amc_demo_application, demo_tokens
from accounts.demo import demo_user as _user
from orgs.models import (
    CodeRedemption,
    Contract,
    EnrollmentCode,
    Organization,
    UserOrganizationMapping,
    UserSiteMapping,
)

# Fixed so that re-seeding is idempotent and README can name them.
CODES = {
    "valid": "3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f",
    "expired": "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "used": "c0ffee00-1234-4abc-8def-0123456789ab",
    "full": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "inactive": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
    "moved": "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",
}


def _org(short_name: str, name: str, domains: list[str], sites: list[str]) -> Organization:
    org, _ = Organization.objects.get_or_create(
        short_name=short_name, defaults={"name": name, "email_domains": domains}
    )
    for domain in sites:
        site, _ = Site.objects.get_or_create(domain=domain, defaults={"name": domain})
        org.sites.add(site)
    return org


def seed_amc() -> None:
    now = timezone.now()
    amc_demo_application()
    acme = _org("acme", "Acme University", ["acme.example.edu"], ["acme.example.com"])
    twosites = _org(
        "globex",
        "Globex Corp",
        ["globex.example.com"],
        ["globex.example.com", "learn.globex.example.com"],
    )

    def admin_of(user: Any, org: Organization, *, active: bool = True) -> None:
        UserOrganizationMapping.objects.get_or_create(
            user=user,
            organization=org,
            defaults={"is_amc_admin": True, "is_active": active},
        )
        if org.sites.count() == 1:
            UserSiteMapping.objects.get_or_create(
                user=user, site=org.sites.get(), defaults={"is_amc_admin": True}
            )

    healthy = _user("amc-ok", "amc-ok@acme.example.edu")
    admin_of(healthy, acme)
    demo_tokens(healthy, expires=now + dt.timedelta(days=300), record=True)

    expired = _user("amc-expired", "amc-expired@acme.example.edu")
    admin_of(expired, acme)
    demo_tokens(expired, expires=now - dt.timedelta(days=3), record=True)

    stale = _user("amc-stale", "amc-stale@acme.example.edu")
    admin_of(stale, acme)
    demo_tokens(stale, expires=now + dt.timedelta(days=200), record=True, stale=True)

    _user("amc-no-org", "amc-no-org@acme.example.edu")

    inactive = _user("amc-inactive-mapping", "amc-inactive@acme.example.edu")
    admin_of(inactive, acme, active=False)

    two = _user("amc-two-sites", "amc-two-sites@globex.example.com")
    admin_of(two, twosites)


def seed_codes() -> None:
    now = timezone.now()
    acme = _org("acme", "Acme University", ["acme.example.edu"], ["acme.example.com"])
    year = dict(start=now - dt.timedelta(days=60), end=now + dt.timedelta(days=300))

    def contract(name: str, **fields: Any) -> Contract:
        c, _ = Contract.objects.get_or_create(
            organization=acme,
            name=name,
            defaults={"membership_type": Contract.MembershipType.CODE, **year, **fields},
        )
        return c

    def code(key: str, c: Contract, **fields: Any) -> EnrollmentCode:
        defaults = {"activation_date": c.start, "expiration_date": c.end, **fields}
        obj, _ = EnrollmentCode.objects.get_or_create(
            code=CODES[key], defaults={"contract": c, **defaults}
        )
        return obj

    main = contract("Acme 2026 cohort")
    code("valid", main)
    code("expired", main, expiration_date=now - dt.timedelta(days=5))
    used = code("used", main)
    redeemer = _user("code-user", "code-user@acme.example.edu")
    if not CodeRedemption.objects.filter(code=used).exists():
        CodeRedemption.objects.create(
            code=used, user=redeemer, redeemed_on=now - dt.timedelta(days=9)
        )
        main.learners.add(redeemer)

    full = contract("Acme pilot (full)", max_learners=1)
    full.learners.add(redeemer)
    code("full", full)
    off = contract("Acme paused", active=False)
    code("inactive", off)
    moved = contract(
        "Acme moved dates", start=now - dt.timedelta(days=10), end=now + dt.timedelta(days=100)
    )
    code(
        "moved",
        moved,
        activation_date=now - dt.timedelta(days=40),
        expiration_date=now + dt.timedelta(days=20),
    )


WRONG_SSO_ID = "00000000-dead-4bee-8000-000000000000"


def seed_keycloak() -> None:
    """Local side of the demo Keycloak (`scripts/keycloak.sh start --demo` made its side and
    exported its organizations' ids, which change at every start of the in-memory server)."""
    ids = {k: os.environ.get(f"KEYCLOAK_ORG_{k.upper()}_ID") for k in ("acme", "beta")}
    if not all(ids.values()):
        return

    def controlled(short_name: str, name: str, sso_id: str, domain: str) -> Organization:
        Organization.objects.filter(sso_organization_id=sso_id).exclude(
            short_name=short_name
        ).update(sso_organization_id=None)
        org, _ = Organization.objects.update_or_create(
            short_name=short_name,
            defaults={"name": name, "sso_organization_id": sso_id, "email_domains": [domain]},
        )
        return org

    acme = controlled("acme-sso", "Acme University (SSO)", ids["acme"], "acme.test")
    ann = _user("ann", "ann@acme.test")
    UserOrganizationMapping.objects.get_or_create(
        user=ann, organization=acme
    )  # password_blocks_idp

    beta = controlled("beta", "Beta College", ids["beta"], "beta.test")
    Contract.objects.get_or_create(
        organization=beta,
        name="Beta all staff",
        defaults={"membership_type": Contract.MembershipType.MANAGED},
    )
    bob = _user("bob", "bob@beta.test")  # not a Keycloak member, no keep-until-seen, no contract
    UserOrganizationMapping.objects.get_or_create(user=bob, organization=beta)
    _user("erin", "erin@beta.test")  # no Keycloak account, no local membership

    gamma = controlled("gamma", "Gamma Institute", WRONG_SSO_ID, "gamma.test")  # sso_id_not_found
    carol = _user("carol", "carol@gamma.test")
    UserOrganizationMapping.objects.get_or_create(user=carol, organization=gamma)
