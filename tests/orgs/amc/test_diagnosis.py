import datetime as dt

import pytest
from django.utils import timezone

from orgs.amc.diagnosis import diagnose_amc_user
from orgs.amc.services import ensure_amc_admin, ensure_amc_token
from support_tools.models import SupportAction
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    OrganizationFactory,
    RefreshTokenFactory,
    SiteFactory,
    UserFactory,
    UserOrganizationMappingFactory,
    UserSiteMappingFactory,
)

pytestmark = pytest.mark.django_db


def codes(diagnosis):
    return {p.code for p in diagnosis.problems}


@pytest.fixture
def org():
    return OrganizationFactory(short_name="acme", email_domains=["example.com"])


@pytest.fixture
def ann():
    return UserFactory(username="ann")


def test_a_healthy_amc_admin_passes_and_the_token_authenticates(amc_app, org, ann, system_actor):
    ensure_amc_admin(user="ann", organization="acme", actor=system_actor)
    ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)

    assert diagnosis.ok and diagnosis.problems == ()
    assert diagnosis.token_check == {"endpoint": "/api/v1/me", "authenticates": True, "status": 200}
    assert diagnosis.organizations == ("acme",)
    row = SupportAction.objects.filter(action="diagnose_amc_user").get()
    assert row.outcome == "ok" and row.changes == []


def test_nothing_set_up(amc_app, ann, system_actor):
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert not diagnosis.ok
    assert codes(diagnosis) == {"no_organization", "access_token_missing", "amc_account_missing"}
    fixes = {p.code: p.fix for p in diagnosis.problems}
    assert fixes == {
        "no_organization": "ensure_amc_admin",
        "access_token_missing": "ensure_amc_token",
        "amc_account_missing": "ensure_amc_token",
    }
    assert SupportAction.objects.get().outcome == "problems"


def test_missing_application(settings, org, ann, system_actor):
    settings.AMC_OAUTH_CLIENT_ID = "missing"
    UserOrganizationMappingFactory(user=ann, organization=org, is_amc_admin=True)
    UserSiteMappingFactory(user=ann, site=org.sites.get(), is_amc_admin=True)
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert codes(diagnosis) == {"amc_app_missing", "amc_account_missing"}


def test_mapping_problems(amc_app, ann, system_actor):
    one_site = OrganizationFactory(short_name="one")
    UserOrganizationMappingFactory(
        user=ann, organization=one_site, is_amc_admin=True, is_active=False
    )
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert {"org_mapping_inactive", "site_mapping_missing"} <= codes(diagnosis)

    UserSiteMappingFactory(user=ann, site=one_site.sites.get(), is_amc_admin=False)
    assert "site_mapping_inactive" in codes(diagnose_amc_user(user="ann", actor=system_actor))

    two = OrganizationFactory(short_name="two", sites=[SiteFactory(), SiteFactory()])
    UserOrganizationMappingFactory(user=ann, organization=two, is_amc_admin=True)
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    problem = next(p for p in diagnosis.problems if p.code == "org_site_count")
    assert problem.message == "The organization two has 2 sites; the AMC needs exactly one."
    assert problem.fix is None


def test_token_problems(amc_app, org, ann, system_actor):
    ensure_amc_admin(user="ann", organization="acme", actor=system_actor)
    now = timezone.now()
    expired = AccessTokenFactory(user=ann, application=amc_app, expires=now - dt.timedelta(days=2))
    AmcAccountFactory(user=ann, access_token=expired.token, token_expires_at=expired.expires)
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert codes(diagnosis) == {"access_token_expired"}
    assert diagnosis.token_check["authenticates"] is False
    assert diagnosis.token_check["status"] == 401

    soon = AccessTokenFactory(user=ann, application=amc_app, expires=now + dt.timedelta(days=3))
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert codes(diagnosis) == {
        "access_token_expiring_soon",
        "refresh_token_missing",
        "amc_tokens_mismatch",
    }
    warning = next(p for p in diagnosis.problems if p.code == "access_token_expiring_soon")
    assert warning.severity == "warning"

    RefreshTokenFactory(access_token=soon)
    ensure_amc_token(user="ann", organization="acme", actor=system_actor)
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    assert codes(diagnosis) == {"access_token_expiring_soon"}
    assert diagnosis.ok  # a warning alone does not fail the diagnosis


def test_diagnosis_names_what_differs_on_the_account(amc_app, org, ann, system_actor):
    ensure_amc_admin(user="ann", organization="acme", actor=system_actor)
    ensure_amc_token(user="ann", organization="acme", actor=system_actor)
    ann.amc_account.refresh_token = "hand-copied-wrong"
    ann.amc_account.save()
    diagnosis = diagnose_amc_user(user="ann", actor=system_actor)
    (problem,) = diagnosis.problems
    assert problem.code == "amc_tokens_mismatch" and "refresh token" in problem.message
    assert "hand-copied-wrong" not in str(diagnosis.as_dict())


def test_diagnosis_needs_view_access(amc_app, ann):
    from support_tools.actors import Actor
    from support_tools.errors import SupportError

    nobody = UserFactory(username="nobody", is_staff=True)
    with pytest.raises(SupportError):
        diagnose_amc_user(user="ann", actor=Actor.for_user(nobody, door="api"))
