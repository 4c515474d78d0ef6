"""repair_org_membership: the fixes, where Keycloak plays no part and against the real one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.utils import timezone

from orgs.keycloak import KEYCLOAK_FORBIDDEN, KEYCLOAK_NOT_CONFIGURED
from orgs.membership import (
    FIX_PERMISSION_DENIED,
    REPAIR_KEYCLOAK_DOWN,
    UNKNOWN_FIX,
    diagnose_org_membership,
    parse_fixes,
    repair_org_membership,
)
from orgs.models import UserOrganizationMapping
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)
from tests.orgs.membership.world import (
    Learner,
    codes,
    django_session_for,
    local_org,
    problem,
    statuses,
)

pytestmark = pytest.mark.django_db


# -- where Keycloak plays no part, or is not configured ----------------------------------------


def test_inactive_membership_is_reported_and_reactivated(no_keycloak, org, ann, system_actor):
    mapping = UserOrganizationMappingFactory(user=ann, organization=org, is_active=False)

    result = diagnose_org_membership(user=ann, organization=org, actor=system_actor)
    assert codes(result) == ["local_membership_missing"]
    assert "inactive" in result.problems[0].message

    repair = repair_org_membership(user=ann, organization=org, actor=system_actor)

    mapping.refresh_from_db()
    assert mapping.is_active and not mapping.keep_until_seen  # not controlled: nothing to keep
    assert {o.fix: o.status for o in repair.outcomes}["create_local_membership"] == "done"


def test_controlled_organization_without_keycloak_settings(no_keycloak, ann, system_actor):
    org = OrganizationFactory(
        sso_organization_id="00000000-0000-4000-8000-0000000000aa", email_domains=["local.edu"]
    )

    result = diagnose_org_membership(user=ann, organization=org, actor=system_actor)

    assert codes(result) == ["keycloak_not_configured", "local_membership_missing"]
    assert "Keycloak is not configured here" in result.problems[0].message
    assert not result.ok

    repair = repair_org_membership(user=ann, organization=org, actor=system_actor)

    outcome = {o.fix: o for o in repair.outcomes}
    assert outcome["add_keycloak_membership"].status == "skipped"
    assert outcome["add_keycloak_membership"].message == "Keycloak is not configured here"
    mapping = UserOrganizationMapping.objects.get(user=ann, organization=org)
    assert mapping.keep_until_seen  # so the next login keeps it until Keycloak reports it
    assert KEYCLOAK_NOT_CONFIGURED.startswith("Keycloak is not configured")


def test_second_local_repair_changes_nothing(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="managed")

    first = repair_org_membership(user=ann, organization=org, actor=system_actor)
    second = repair_org_membership(user=ann, organization=org, actor=system_actor)

    assert first.changed and not second.changed
    assert ann.contracts.count() == 1


def test_unknown_fix_is_bad_input(no_keycloak, org, ann, system_actor):
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user=ann, organization=org, fixes=["reboot"], actor=system_actor)

    assert exc.value.kind == ErrorKind.BAD_INPUT
    assert exc.value.message.startswith(UNKNOWN_FIX.split("{")[0])
    assert parse_fixes(["end_sessions", "delete_password"]) == ["delete_password", "end_sessions"]


def test_unknown_user_or_organization_is_not_found(no_keycloak, org, system_actor):
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user="nobody@local.edu", organization=org, actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND
    UserFactory(username="ann")
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user="ann", organization="nowhere", actor=system_actor)
    assert exc.value.kind == ErrorKind.NOT_FOUND


# -- against the real Keycloak ----------------------------------------------------------------


@pytest.mark.keycloak
def test_sso_id_not_found_suggests_the_one_matching_organization_and_repair_sets_it(
    kc, system_actor
):
    kc_org = kc.org()
    org = OrganizationFactory(
        name=kc_org.name,
        short_name=kc_org.alias,
        sso_organization_id="00000000-0000-4000-8000-000000000001",
        email_domains=[kc_org.domain],
    )
    learner = Learner(kc, kc_org, member=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert codes(result) == ["sso_id_not_found"]
    assert problem(result, "sso_id_not_found").fix == "correct_sso_id"
    assert kc_org.id in problem(result, "sso_id_not_found").message

    repair = repair_org_membership(
        user=learner.user, organization=org, fixes=["correct_sso_id"], actor=system_actor
    )

    assert statuses(repair) == {"correct_sso_id": "done"}
    org.refresh_from_db()
    assert str(org.sso_organization_id) == kc_org.id
    assert diagnose_org_membership(user=learner.user, organization=org, actor=system_actor).ok


@pytest.mark.keycloak
def test_keep_until_seen_off(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    mapping = UserOrganizationMappingFactory(user=learner.user, organization=org)

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert problem(result, "keep_until_seen_off").fix == "keep_until_seen"

    repair_org_membership(
        user=learner.user, organization=org, fixes=["keep_until_seen"], actor=system_actor
    )

    mapping.refresh_from_db()
    assert mapping.keep_until_seen is True
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert "keep_until_seen_off" not in codes(after)


@pytest.mark.keycloak
def test_repair_deletes_the_password_in_keycloak(kc, system_actor):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True, member=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org)
    assert kc.credential_types(learner.kc_user) == ["password"]

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result)["delete_password"] == "done"
    assert kc.credential_types(learner.kc_user) == []
    row = SupportAction.objects.get(action="repair_org_membership")
    assert any("deleted the password" in c.get("external", "") for c in row.changes)


@pytest.mark.keycloak
def test_repair_adds_the_keycloak_membership_and_a_kept_local_one(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result)["add_keycloak_membership"] == "done"
    assert statuses(result)["create_local_membership"] == "done"
    assert kc.organization_ids_of(learner.kc_user) == {kc_org.id}
    mapping = UserOrganizationMapping.objects.get(user=learner.user, organization=org)
    assert mapping.is_active and mapping.keep_until_seen
    assert result.keycloak_calls and kc_org.id in result.keycloak_calls[0]


@pytest.mark.keycloak
def test_no_keycloak_membership_is_added_when_the_organization_has_an_identity_provider(
    kc, system_actor
):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)

    result = repair_org_membership(
        user=learner.user, organization=org, fixes=["add_keycloak_membership"], actor=system_actor
    )

    assert statuses(result) == {"add_keycloak_membership": "skipped"}
    assert "identity provider" in result.outcomes[0].message
    assert kc.organization_ids_of(learner.kc_user) == set()
    assert result.changed is False


@pytest.mark.keycloak
def test_repair_adds_missing_contract_memberships_but_not_to_a_full_contract(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, member=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org)
    open_one = ContractFactory(organization=org, membership_type="managed", name="Open")
    full = ContractFactory(organization=org, membership_type="auto", name="Full", max_learners=1)
    full.learners.add(UserFactory())
    ContractFactory(
        organization=org,
        membership_type="managed",
        name="Ended",
        end=timezone.now() - dt.timedelta(days=1),
    )

    result = repair_org_membership(
        user=learner.user, organization=org, fixes=["add_contract_memberships"], actor=system_actor
    )

    assert statuses(result) == {"add_contract_memberships": "done"}
    assert "not to the full Full" in result.outcomes[0].message
    assert list(learner.user.contracts.all()) == [open_one]


@pytest.mark.keycloak
def test_repair_ends_keycloak_and_local_sessions_and_asks_for_a_new_login(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)
    other_session = django_session_for(UserFactory())
    django_session_for(learner.user)
    assert kc.session_count(learner.kc_user) == 1

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result)["end_sessions"] == "done"
    assert kc.session_count(learner.kc_user) == 0
    assert list(Session.objects.values_list("session_key", flat=True)) == [other_session]

    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(after) == ["relogin_required"]
    assert after.ok  # a warning
    learner.user.last_login = timezone.now()
    learner.user.save()
    again = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(again) == []


@pytest.mark.keycloak
def test_second_repair_changes_nothing(kc, system_actor):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    ContractFactory(organization=org, membership_type="managed")
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)

    first = repair_org_membership(user=learner.user, organization=org, actor=system_actor)
    second = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert first.changed
    assert second.changed is False and second.as_dict()["changed"] is False
    assert set(statuses(second).values()) == {"skipped"}
    assert second.keycloak_calls == ()
    outcomes = list(
        SupportAction.objects.filter(action="repair_org_membership").values_list(
            "outcome", flat=True
        )
    )
    assert outcomes == ["unchanged", "changed"]


@pytest.mark.keycloak
def test_dry_run_calls_no_keycloak_write_and_changes_nothing(kc, system_actor):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    ContractFactory(organization=org, membership_type="managed")
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)

    result = repair_org_membership(
        user=learner.user, organization=org, actor=system_actor, dry_run=True
    )

    assert result.changed and result.dry_run
    assert statuses(result) == {
        "delete_password": "would_do",
        "add_keycloak_membership": "skipped",
        "end_sessions": "would_do",
        "correct_sso_id": "skipped",
        "create_local_membership": "would_do",
        "keep_until_seen": "skipped",
        "add_contract_memberships": "would_do",
    }
    assert result.keycloak_calls == ()
    assert kc.credential_types(learner.kc_user) == ["password"]
    assert kc.session_count(learner.kc_user) == 1
    assert not UserOrganizationMapping.objects.filter(user=learner.user).exists()
    assert not learner.user.contracts.exists()
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.dry_run and not any("external" in c for c in row.changes)
    # a dry run is no repair: no new login is asked for
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert "relogin_required" not in codes(after)


@pytest.mark.keycloak
def test_keycloak_failure_part_way_leaves_the_local_database_unchanged(kc, settings, system_actor):
    # A service account that may add members (manage-realm) but not end sessions (manage-users).
    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(
        ["view-users", "manage-realm"]
    )
    kc_org = kc.org()
    org = local_org(kc_org)
    ContractFactory(organization=org, membership_type="managed")
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result) == {
        "delete_password": "skipped",  # no identity provider: the password blocks nothing
        "add_keycloak_membership": "done",
        "end_sessions": "failed",
        "correct_sso_id": "skipped",
        "create_local_membership": "skipped",
        "keep_until_seen": "skipped",
        "add_contract_memberships": "skipped",
    }
    assert result.failed_fixes == ["end_sessions"]
    failed = next(o for o in result.outcomes if o.fix == "end_sessions")
    assert failed.message == KEYCLOAK_FORBIDDEN.format(
        what="end the user's sessions", client_id=settings.KEYCLOAK_CLIENT_ID
    )
    assert "end_sessions failed" in next(
        o.message for o in result.outcomes if o.fix == "create_local_membership"
    )
    # Keycloak kept the first call; the local database has nothing new.
    assert kc.organization_ids_of(learner.kc_user) == {kc_org.id}
    assert kc.session_count(learner.kc_user) == 1
    assert not UserOrganizationMapping.objects.filter(user=learner.user).exists()
    assert not learner.user.contracts.exists()
    row = SupportAction.objects.get(action="repair_org_membership")
    assert [c["external"] for c in row.changes] == list(result.keycloak_calls)
    assert len(row.changes) == 1 and "added the user" in row.changes[0]["external"]
    assert row.outcome == "failed"
    # Keycloak did change: the learner must sign in again for it to count.
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert "relogin_required" in codes(after)


@pytest.mark.keycloak
def test_keycloak_unreachable(kc, settings, closed_port, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    settings.KEYCLOAK_SERVER_URL = f"http://127.0.0.1:{closed_port}"

    result = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert codes(result) == ["keycloak_unreachable", "local_membership_missing"]
    assert (
        f"127.0.0.1:{closed_port} did not answer" in problem(result, "keycloak_unreachable").message
    )

    with pytest.raises(SupportError) as exc:
        repair_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert exc.value.kind == ErrorKind.UNAVAILABLE
    assert exc.value.message.startswith(REPAIR_KEYCLOAK_DOWN.split("{")[0])
    assert not UserOrganizationMapping.objects.exists()
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.outcome == "failed" and row.changes == []


# -- permissions ---------------------------------------------------------------------------


@pytest.mark.keycloak
def test_viewer_may_diagnose_but_not_repair(kc, viewer_user):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    actor = Actor.for_user(viewer_user, door="admin")

    assert diagnose_org_membership(user=learner.user, organization=org, actor=actor).problems
    with pytest.raises(SupportError) as exc:
        repair_org_membership(user=learner.user, organization=org, actor=actor)
    assert exc.value.kind == ErrorKind.PERMISSION
    assert SupportAction.objects.filter(action="repair_org_membership", outcome="failed").exists()


@pytest.mark.keycloak
def test_local_repairer_skips_keycloak_fixes_and_is_refused_them_by_name(kc, viewer_user):
    viewer_user.user_permissions.add(Permission.objects.get(codename="run_repair_org_membership"))
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    actor = Actor.for_user(viewer_user, door="admin")

    result = repair_org_membership(user=learner.user, organization=org, actor=actor)

    assert statuses(result)["add_keycloak_membership"] == "skipped"
    assert "run_repair_keycloak_membership" in next(
        o.message for o in result.outcomes if o.fix == "add_keycloak_membership"
    )
    assert statuses(result)["create_local_membership"] == "done"
    assert kc.organization_ids_of(learner.kc_user) == set()
    with pytest.raises(SupportError) as exc:
        repair_org_membership(
            user=learner.user,
            organization=org,
            fixes=["add_keycloak_membership"],
            actor=Actor.for_user(viewer_user, door="admin"),
        )
    assert exc.value.message == FIX_PERMISSION_DENIED.format(
        perm="run_repair_keycloak_membership", fix="add_keycloak_membership"
    )


@pytest.mark.keycloak
def test_support_group_may_run_keycloak_fixes(kc, support_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)

    repair_org_membership(
        user=learner.user, organization=org, fixes=["add_keycloak_membership"], actor=support_actor
    )

    assert kc.organization_ids_of(learner.kc_user) == {kc_org.id}
