"""Demo data showing every playbook's broken cases. Idempotent: re-running changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import AmcAccount
from orgs.models import (
    CodeRedemption,
    Contract,
    EnrollmentCode,
    Organization,
    UserOrganizationMapping,
    UserSiteMapping,
)
from support_tools.permissions import SUPPORT_GROUP, SUPPORT_LEADS_GROUP

User = get_user_model()

DEMO_PASSWORD = "demo"
AMC_DEMO_CLIENT_ID = "amc-demo-client"
# Fixed so that re-seeding is idempotent and README can name them.
CODES = {
    "valid": "3f2b8c1e-7d4a-4e6b-9c0d-1a2b3c4d5e6f",
    "expired": "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "used": "c0ffee00-1234-4abc-8def-0123456789ab",
    "full": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "inactive": "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a",
    "moved": "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",
}


def _user(username: str, email: str, **extra: Any) -> Any:
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, **extra}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _org(short_name: str, name: str, domains: list[str], sites: list[str]) -> Organization:
    org, _ = Organization.objects.get_or_create(
        short_name=short_name, defaults={"name": name, "email_domains": domains}
    )
    for domain in sites:
        site, _ = Site.objects.get_or_create(domain=domain, defaults={"name": domain})
        org.sites.add(site)
    return org


def seed_staff() -> None:
    admin = _user("admin", "admin@example.com", is_staff=True, is_superuser=True)
    if not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.save()
    support = _user("support", "support@example.com", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    lead = _user("lead", "lead@example.com", is_staff=True)
    lead.groups.add(Group.objects.get(name=SUPPORT_LEADS_GROUP))


def seed_amc() -> None:
    now = timezone.now()
    app, _ = Application.objects.get_or_create(
        client_id=AMC_DEMO_CLIENT_ID,
        defaults={
            "name": "AMC",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_PASSWORD,
        },
    )
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

    def tokens(user: Any, *, expires: dt.datetime, record: bool, stale: bool = False) -> None:
        if AccessToken.objects.filter(user=user, application=app).exists():
            return
        access = AccessToken.objects.create(
            user=user,
            application=app,
            token=f"demo-{user.username}-access-token-0001",
            expires=expires,
            scope="read write",
        )
        refresh = RefreshToken.objects.create(
            user=user,
            application=app,
            token=f"demo-{user.username}-refresh-token-0001",
            access_token=access,
        )
        if record:
            AmcAccount.objects.get_or_create(
                user=user,
                defaults={
                    "access_token": "hand-copied-stale-token" if stale else access.token,
                    "refresh_token": refresh.token,
                    "token_expires_at": expires,
                },
            )

    healthy = _user("amc-ok", "amc-ok@acme.example.edu")
    admin_of(healthy, acme)
    tokens(healthy, expires=now + dt.timedelta(days=300), record=True)

    expired = _user("amc-expired", "amc-expired@acme.example.edu")
    admin_of(expired, acme)
    tokens(expired, expires=now - dt.timedelta(days=3), record=True)

    stale = _user("amc-stale", "amc-stale@acme.example.edu")
    admin_of(stale, acme)
    tokens(stale, expires=now + dt.timedelta(days=200), record=True, stale=True)

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


DEMO_PROGRAM = "8d2a6c1e-0b3f-4c5d-9e7f-a1b2c3d4e5f6"
DEMO_CURRICULUM = "8d2a6c1e-0b3f-4c5d-9e7f-000000000001"


def seed_programs() -> None:
    """A master's program whose registrar keys wait to be linked (README has the CSV)."""
    from enrollments.models import (
        CourseAccessRoleAssignment,
        CourseMode,
        ProgramCourseEnrollment,
        ProgramEnrollment,
    )

    courses = ["course-v1:ACME+DS101+2026", "course-v1:ACME+ML201+2026"]
    for course in courses:
        for mode in ("audit", "masters"):
            CourseMode.objects.get_or_create(course_key=course, mode_slug=mode)
    # A course of the program without a masters mode: linking its learners is a row error.
    CourseMode.objects.get_or_create(course_key="course-v1:ACME+NOMA+2026", mode_slug="audit")

    def enrol(key: str, *, courses: list[str], user: Any = None) -> ProgramEnrollment:
        pe, _ = ProgramEnrollment.objects.get_or_create(
            external_user_key=key,
            program_uuid=DEMO_PROGRAM,
            curriculum_uuid=DEMO_CURRICULUM,
            defaults={"status": "enrolled", "user": user},
        )
        for course in courses:
            ProgramCourseEnrollment.objects.get_or_create(
                program_enrollment=pe, course_key=course, defaults={"status": "active"}
            )
        return pe

    for n in range(1, 4):
        _user(f"student{n}", f"student{n}@acme.example.edu")
        enrol(f"ACME-{n:04d}", courses=courses)
    wrong = _user("wrong-student", "wrong-student@acme.example.edu")
    _user("right-student", "right-student@acme.example.edu")
    enrol("ACME-0099", courses=courses, user=wrong)  # linked to the wrong account: relink
    ta = enrol("ACME-TA01", courses=courses[:1])
    _user("teaching-assistant", "ta@acme.example.edu")
    CourseAccessRoleAssignment.objects.get_or_create(
        enrollment=ta.program_course_enrollments.get(), role="staff"
    )
    enrol("ACME-0500", courses=["course-v1:ACME+NOMA+2026"])
    _user("student500", "student500@acme.example.edu")


SEEDERS = [seed_staff, seed_amc, seed_codes, seed_programs]
WRONG_SSO_ID = "00000000-dead-4bee-8000-000000000000"


def seed_keycloak() -> None:
    """Local side of the demo Keycloak (`scripts/keycloak.sh start --demo` made its side and
    exported its organizations' ids, which change at every start of the in-memory server)."""
    import os

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


# Seeders that also need the demo Keycloak (see scripts/demo.sh).
KEYCLOAK_SEEDERS = [seed_keycloak]
