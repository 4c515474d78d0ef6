import datetime as dt

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.models import AmcAccount
from accounts.selectors import AMC_APP_MISSING, AMC_CLIENT_ID_UNSET, USER_NOT_FOUND
from orgs.amc.services import ORG_SITE_COUNT, ensure_amc_admin, ensure_amc_token
from orgs.models import UserOrganizationMapping, UserSiteMapping
from orgs.selectors import ORG_NAME_AMBIGUOUS, ORG_NOT_FOUND
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, USER_INACTIVE, SupportError
from support_tools.models import SupportAction
from tests.factories import (
    AccessTokenFactory,
    AmcAccountFactory,
    OrganizationFactory,
    RefreshTokenFactory,
    SiteFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(
        short_name="acme", name="Acme University", email_domains=["example.com"]
    )


@pytest.fixture
def ann():
    return UserFactory(username="ann", email="Ann@Example.com")


def _account(user):
    return AmcAccount.objects.get(user=user)


def test_creates_mappings_tokens_and_account_when_nothing_exists(amc_app, org, ann, system_actor):
    result = ensure_amc_token(user="ann@example.COM", organization="ACME", actor=system_actor)

    assert result.changed and result.access_token_created and result.refresh_token_created
    assert result.mappings.as_dict() == {"organization": "created", "site": "created"}
    access = AccessToken.objects.get(user=ann, application=amc_app)
    refresh = RefreshToken.objects.get(access_token=access, revoked__isnull=True)
    account = _account(ann)
    assert (account.access_token, account.refresh_token) == (access.token, refresh.token)
    assert account.token_expires_at == access.expires
    assert account.token_type == "Bearer"
    lifetime = access.expires - timezone.now()
    assert dt.timedelta(days=365) < lifetime <= dt.timedelta(days=366)
    assert UserOrganizationMapping.objects.filter(user=ann, organization=org).exists()
    assert UserSiteMapping.objects.filter(user=ann, site=org.sites.get()).exists()


def test_second_run_changes_nothing(amc_app, org, ann, system_actor):
    ensure_amc_token(user="ann", organization="acme", actor=system_actor)
    second = ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    assert second.changed is False
    assert second.as_dict()["changed"] is False
    assert AccessToken.objects.filter(user=ann).count() == 1
    assert RefreshToken.objects.filter(user=ann).count() == 1
    assert SupportAction.objects.filter(action="ensure_amc_token").first().outcome == "unchanged"


def test_keeps_newest_usable_token_and_never_an_expired_one(amc_app, org, ann, system_actor):
    now = timezone.now()
    AccessTokenFactory(user=ann, application=amc_app, expires=now - dt.timedelta(days=1))
    older = AccessTokenFactory(user=ann, application=amc_app, expires=now + dt.timedelta(days=50))
    newest = AccessTokenFactory(user=ann, application=amc_app, expires=now + dt.timedelta(days=90))
    refresh = RefreshTokenFactory(access_token=newest)

    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    assert not result.access_token_created and not result.refresh_token_created
    account = _account(ann)
    assert account.access_token == newest.token != older.token
    assert account.refresh_token == refresh.token


def test_replaces_an_expired_token(amc_app, org, ann, system_actor):
    expired = AccessTokenFactory(
        user=ann, application=amc_app, expires=timezone.now() - dt.timedelta(minutes=1)
    )
    AmcAccountFactory(user=ann, access_token=expired.token, token_expires_at=expired.expires)

    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    assert result.access_token_created and result.amc_account_updated
    assert _account(ann).access_token != expired.token
    assert _account(ann).token_expires_at > timezone.now()


def test_binds_a_new_refresh_token_when_the_existing_one_is_revoked(
    amc_app, org, ann, system_actor
):
    access = AccessTokenFactory(user=ann, application=amc_app)
    RefreshTokenFactory(access_token=access, revoked=timezone.now())

    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    assert result.refresh_token_created and not result.access_token_created
    live = RefreshToken.objects.get(access_token=access)
    assert live.revoked is None and _account(ann).refresh_token == live.token


def test_fixes_an_account_holding_other_tokens(amc_app, org, ann, system_actor):
    access = AccessTokenFactory(user=ann, application=amc_app)
    refresh = RefreshTokenFactory(access_token=access)
    AmcAccountFactory(user=ann, access_token="stale", refresh_token="stale", token_type="bearer")

    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor)

    assert result.amc_account_updated
    account = _account(ann)
    assert (account.access_token, account.refresh_token, account.token_type) == (
        access.token,
        refresh.token,
        "Bearer",
    )


def test_dry_run_writes_nothing_but_its_audit_row(amc_app, org, ann, system_actor):
    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor, dry_run=True)

    assert result.changed and result.dry_run
    assert not AccessToken.objects.exists()
    assert not AmcAccount.objects.exists()
    assert not UserOrganizationMapping.objects.exists()
    row = SupportAction.objects.get()
    assert row.dry_run and row.outcome == "changed" and row.changes


def test_dry_run_shows_no_end_of_a_token_it_would_create(amc_app, org, ann, system_actor):
    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor, dry_run=True)

    assert result.access_token_created and result.access_token_last4 is None
    assert result.as_dict()["access_token"]["token"] is None
    assert SupportAction.objects.get().result["access_token"]["token"] is None


def test_dry_run_shows_the_end_of_the_token_it_would_keep(amc_app, org, ann, system_actor):
    kept = AccessTokenFactory(
        user=ann, application=amc_app, expires=timezone.now() + dt.timedelta(days=90)
    )

    result = ensure_amc_token(user="ann", organization="acme", actor=system_actor, dry_run=True)

    assert not result.access_token_created
    assert result.access_token_last4 == "…" + kept.token[-4:]


def test_audit_row_records_actor_changes_and_never_a_whole_token(amc_app, org, ann, support_actor):
    ensure_amc_token(user="ann", organization="acme", actor=support_actor)

    row = SupportAction.objects.get()
    assert row.actor == support_actor.user and row.door == "admin"
    assert row.subject_user == ann and row.target_label == "acme"
    token = _account(ann).access_token
    refresh = _account(ann).refresh_token
    dumped = str(row.changes) + str(row.result) + str(row.inputs)
    assert token not in dumped and refresh not in dumped
    assert "…" + token[-4:] in dumped


@pytest.mark.parametrize(
    ("user", "org_name", "message"),
    [
        ("nobody@example.com", "acme", USER_NOT_FOUND.format(identifier="nobody@example.com")),
        ("ann", "nowhere", ORG_NOT_FOUND.format(identifier="nowhere")),
    ],
)
def test_unknown_user_or_org_is_refused_and_recorded(
    amc_app, org, ann, system_actor, user, org_name, message
):
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user=user, organization=org_name, actor=system_actor)
    assert exc.value.message == message
    assert not AccessToken.objects.exists()
    row = SupportAction.objects.get()
    assert row.outcome == "failed" and row.error == message


def test_ambiguous_organization_name(amc_app, ann, system_actor):
    OrganizationFactory(short_name="a1", name="Acme")
    OrganizationFactory(short_name="a2", name="acme")
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="ann", organization="ACME", actor=system_actor)
    assert exc.value.message == ORG_NAME_AMBIGUOUS.format(identifier="ACME", short_names="a1, a2")


@pytest.mark.parametrize("site_count", [0, 2])
def test_organization_without_exactly_one_site(amc_app, ann, system_actor, site_count):
    OrganizationFactory(short_name="multi", sites=[SiteFactory() for _ in range(site_count)])
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="ann", organization="multi", actor=system_actor)
    assert exc.value.message == ORG_SITE_COUNT.format(org="multi", count=site_count)
    assert not UserOrganizationMapping.objects.exists()


def test_missing_amc_application(settings, org, ann, system_actor):
    settings.AMC_OAUTH_CLIENT_ID = "nope"
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="ann", organization="acme", actor=system_actor)
    assert exc.value.message == AMC_APP_MISSING.format(client_id="nope")
    # The mappings written before the refusal were rolled back with it.
    assert not UserOrganizationMapping.objects.exists()

    settings.AMC_OAUTH_CLIENT_ID = None
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="ann", organization="acme", actor=system_actor)
    assert exc.value.message == AMC_CLIENT_ID_UNSET


def test_inactive_user_is_refused(amc_app, org, system_actor):
    UserFactory(username="gone", is_active=False)
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="gone", organization="acme", actor=system_actor)
    assert exc.value.message == USER_INACTIVE.format(user="gone")


def test_staff_without_permission_is_refused_and_recorded(amc_app, org, ann, viewer_user):
    actor = Actor.for_user(viewer_user, door="api")
    with pytest.raises(SupportError) as exc:
        ensure_amc_token(user="ann", organization="acme", actor=actor)
    assert exc.value.message == PERMISSION_DENIED.format(action="ensure_amc_token")
    assert SupportAction.objects.get().outcome == "failed"
    assert not AccessToken.objects.exists()


def test_view_access_may_preview_but_not_apply(amc_app, org, ann, viewer_user):
    actor = Actor.for_user(viewer_user, door="admin")
    preview = ensure_amc_admin(user="ann", organization="acme", actor=actor, dry_run=True)
    assert preview.changed and not UserOrganizationMapping.objects.exists()
    with pytest.raises(SupportError):
        ensure_amc_admin(user="ann", organization="acme", actor=actor)
    nobody = Actor.for_user(UserFactory(username="nobody", is_staff=True), door="admin")
    with pytest.raises(SupportError):
        ensure_amc_admin(user="ann", organization="acme", actor=nobody, dry_run=True)


def test_ensure_amc_admin_activates_and_promotes_mappings(org, ann, system_actor):
    site = org.sites.get()
    UserOrganizationMappingFactory(user=ann, organization=org, is_active=False)

    result = ensure_amc_admin(user="ann", organization="acme", actor=system_actor)

    assert result.mappings.as_dict() == {"organization": "updated", "site": "created"}
    assert UserOrganizationMapping.objects.get(user=ann).is_amc_admin
    assert UserOrganizationMapping.objects.get(user=ann).is_active
    assert UserSiteMapping.objects.get(user=ann, site=site).is_amc_admin
    again = ensure_amc_admin(user="ann", organization="acme", actor=system_actor)
    assert again.changed is False
    changes = SupportAction.objects.filter(action="ensure_amc_admin").last().changes
    assert {"object": changes[0]["object"], "field": "is_active"}.items() <= changes[0].items()


def test_ensure_amc_admin_dry_run(org, ann, system_actor):
    result = ensure_amc_admin(user="ann", organization="acme", actor=system_actor, dry_run=True)
    assert result.changed and not UserSiteMapping.objects.exists()
