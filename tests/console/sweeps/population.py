"""A generated platform for the sweep's tests: every playbook's problems, drawn at random (a
seeded `random.Random`) from the ways each can go wrong, built with the factories.

Each builder makes learners in every state its playbook's diagnosis tells apart, so that the
property "the sweep finds what the per-learner diagnoses find" is checked on combinations
nobody wrote down by hand.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from tests.enrollments.factories import (
    CourseAccessRoleAssignmentFactory,
    CourseEnrollmentFactory,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    CodeRedemptionFactory,
    ContractFactory,
    EnrollmentCodeFactory,
    OrganizationFactory,
    RefreshTokenFactory,
    SiteFactory,
    UserFactory,
    UserOrganizationMappingFactory,
    UserSiteMappingFactory,
)

DAY = dt.timedelta(days=1)


def amc_admins(rng: random.Random, n: int, application) -> None:
    """AMC admins: tokens missing, expired, expiring, fine; refresh tokens live, revoked or
    missing; AMC accounts missing, right or off in each field; organizations with 0, 1 or 2
    sites; site mappings right, missing, inactive or not admin; a second AMC-admin
    organization now and then, its mapping active or not."""
    now = timezone.now()
    orgs = [OrganizationFactory() for _ in range(3)]
    orgs.append(OrganizationFactory(sites=[]))
    orgs.append(OrganizationFactory(sites=[SiteFactory(), SiteFactory()]))
    for _ in range(n):
        user = UserFactory()
        admin_orgs = rng.sample(orgs, rng.choice([1, 1, 1, 2]))
        for i, org in enumerate(admin_orgs):
            active = i == 0 or rng.random() < 0.5
            UserOrganizationMappingFactory(
                user=user, organization=org, is_amc_admin=True, is_active=active
            )
            site = org.sites.first()
            if site is not None and org.sites.count() == 1:
                kind = rng.choice(["ok", "ok", "missing", "inactive", "not_admin"])
                if kind != "missing":
                    UserSiteMappingFactory(
                        user=user,
                        site=site,
                        is_active=kind != "inactive",
                        is_amc_admin=kind != "not_admin",
                    )
        token = None
        kind = rng.choice(["none", "expired", "soon", "ok", "ok"])
        if kind != "none":
            expires = {"expired": now - 3 * DAY, "soon": now + 5 * DAY, "ok": now + 200 * DAY}
            token = AccessTokenFactory(user=user, application=application, expires=expires[kind])
            if rng.random() < 0.3:  # an older one beside it: the newest counts
                AccessTokenFactory(
                    user=user, application=application, expires=expires[kind] - 10 * DAY
                )
        refresh = None
        if token is not None:
            state = rng.choice(["live", "live", "revoked", "none"])
            if state != "none":
                refresh = RefreshTokenFactory(
                    access_token=token, revoked=now - DAY if state == "revoked" else None
                )
        account = rng.choice(["none", "right", "right", "token", "type", "expiry"])
        if account != "none":
            AmcAccountFactory(
                user=user,
                access_token=(token.token if token else "") if account != "token" else "stale",
                refresh_token=refresh.token if refresh else "",
                token_expires_at=(token.expires if token else None) if account != "expiry" else now,
                token_type="Bearer" if account != "type" else "bearer",
            )


def code_contracts(rng: random.Random, n: int) -> None:
    """Contracts switched off or not, not started, running or ended, with no limit, room, nearly
    full or full; their organization active or not; codes aligned or drifted, used one-time
    codes, expired and future codes."""
    now = timezone.now()
    orgs = [OrganizationFactory(), OrganizationFactory(active=False)]
    for _ in range(n):
        window = rng.choice(["running", "running", "ended", "not_started", "open"])
        start, end = {
            "running": (now - 30 * DAY, now + 300 * DAY),
            "ended": (now - 300 * DAY, now - 2 * DAY),
            "not_started": (now + 2 * DAY, now + 300 * DAY),
            "open": (None, None),
        }[window]
        limit = rng.choice([None, 0, 10, 10])
        contract = ContractFactory(
            organization=rng.choice(orgs + orgs[:1]),
            start=start,
            end=end,
            active=rng.random() < 0.8,
            max_learners=limit,
        )
        if limit:
            seats = rng.choice([2, 9, 10])
            contract.learners.add(*[UserFactory() for _ in range(seats)])
        for _ in range(rng.randint(1, 4)):
            drift = rng.choice(["aligned", "later_end", "no_end", "earlier_start"])
            code = EnrollmentCodeFactory(
                contract=contract,
                activation_date=start - 5 * DAY if drift == "earlier_start" and start else start,
                expiration_date=None
                if drift == "no_end"
                else (now + 400 * DAY if drift == "later_end" else end),
                redemption_type=rng.choice(["one-time", "one-time", "one-time-per-user"]),
            )
            if rng.random() < 0.3:
                CodeRedemptionFactory(code=code)


def program_learners(rng: random.Random, n: int) -> None:
    """Linked learners whose program course enrollments hold their course enrollment or not,
    another learner's, in the wrong state or track; waiting staff roles with or without an
    external key; and unlinked enrollments, which the sweep leaves alone."""
    courses = [f"course-v1:UNI+C{i}+2025" for i in range(3)]
    for course in courses:
        CourseModeFactory(course_key=course, mode_slug="masters")
    program = uuid.uuid4()
    for i in range(n):
        linked = rng.random() < 0.85
        user = UserFactory() if linked else None
        pe = ProgramEnrollmentFactory(
            user=user,
            program_uuid=program,
            external_user_key=None if rng.random() < 0.15 else f"KEY-{program.hex[:6]}-{i}",
        )
        for course in rng.sample(courses, rng.randint(1, 3)):
            status = rng.choice(["active", "active", "inactive"])
            state = rng.choice(["right", "right", "missing", "other", "inactive", "audit"])
            ce = None
            if user is not None and state != "missing":
                owner = user if state != "other" else UserFactory()
                right_active = status == "active"
                ce = CourseEnrollmentFactory(
                    user=owner,
                    course_key=course,
                    mode="audit" if state == "audit" else "masters",
                    is_active=(not right_active) if state == "inactive" else right_active,
                )
            pce = ProgramCourseEnrollmentFactory(
                program_enrollment=pe, course_key=course, status=status, course_enrollment=ce
            )
            if rng.random() < 0.2:
                CourseAccessRoleAssignmentFactory(enrollment=pce)


def membership_world(rng: random.Random, world, n: int) -> None:
    """Keycloak-controlled organizations (with an identity provider or not, one whose SSO id
    Keycloak does not know but whose name it does) and their learners: members in Keycloak or
    not, with a password or not, with an active, inactive or no local membership, keep-until-
    seen on or off, in the organization's managed contract or not; Keycloak members without a
    local membership; and a learner Keycloak does not know."""
    from tests.orgs.membership.world import Learner, local_org

    kc_orgs = [world.org(), world.org(idp=True)]
    orgs = [local_org(k) for k in kc_orgs]
    lost = world.org()  # known to Keycloak by name only: the local SSO id is wrong
    orgs.append(
        OrganizationFactory(
            name=lost.name,
            short_name=lost.alias,
            sso_organization_id=uuid.uuid4(),
            email_domains=[lost.domain],
        )
    )
    kc_orgs.append(lost)
    for org in orgs:
        ContractFactory(organization=org, membership_type="managed", name=f"{org.short_name} M")
    for _ in range(n):
        i = rng.randrange(len(orgs))
        kc_org, org = kc_orgs[i], orgs[i]
        in_kc = rng.random() < 0.85
        learner = Learner(
            world,
            kc_org,
            password=rng.random() < 0.4,
            member=in_kc and rng.random() < 0.6,
            in_kc=in_kc,
        )
        local = rng.choice(["active", "active", "inactive", "none"])
        if local != "none":
            UserOrganizationMappingFactory(
                user=learner.user,
                organization=org,
                is_active=local == "active",
                keep_until_seen=rng.random() < 0.4,
            )
        if rng.random() < 0.5:
            org.contracts.get().learners.add(learner.user)
