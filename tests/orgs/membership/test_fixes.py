"""The fix table: its order and permissions, a blocker on its own, and what each fix does, through
the repair service, locally and against the real Keycloak."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from orgs.keycloak import KEYCLOAK_NOT_CONFIGURED
from orgs.membership import (
    KEYCLOAK_FIXES,
    Fix,
    diagnose_org_membership,
    permission_for,
    repair_org_membership,
)
from orgs.membership.fixes import FIX_STEPS, STEP_OF, WHY
from orgs.membership.names import PERM_KEYCLOAK, PERM_LOCAL
from orgs.models import Organization, UserOrganizationMapping
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)
from tests.orgs.membership.world import (
    Learner,
    a_state,
    codes,
    django_session_for,
    local_org,
    outcome,
    problem,
    statuses,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


# -- the table: pure ------------------------------------------------------------------------------


def test_the_table_runs_in_the_order_of_fix_keycloak_first():
    assert [step.fix for step in FIX_STEPS] == list(Fix)
    keycloak = [step.keycloak for step in FIX_STEPS]
    assert keycloak == sorted(keycloak, reverse=True)
    assert {Fix.DELETE_PASSWORD, Fix.ADD_KEYCLOAK_MEMBERSHIP, Fix.END_SESSIONS} == KEYCLOAK_FIXES
    assert {permission_for(f) for f in KEYCLOAK_FIXES} == {PERM_KEYCLOAK}
    assert {permission_for(f) for f in set(Fix) - KEYCLOAK_FIXES} == {PERM_LOCAL}


def test_end_sessions_runs_after_a_keycloak_change_or_while_a_new_login_is_pending():
    end_sessions = STEP_OF[Fix.END_SESSIONS].blocker
    nothing = frozenset()
    assert end_sessions(a_state(), nothing) == WHY["nothing_to_reconcile"]
    assert end_sessions(a_state(), frozenset({Fix.ADD_KEYCLOAK_MEMBERSHIP})) is None
    assert end_sessions(a_state(), frozenset({Fix.CREATE_LOCAL_MEMBERSHIP})) is not None
    assert end_sessions(a_state(relogin_since=NOW), nothing) is None
    uncontrolled = Organization(pk=2, short_name="local", sso_organization_id=None)
    assert (
        end_sessions(a_state(organization=uncontrolled, relogin_since=NOW), nothing)
        == WHY["not_controlled"]
    )
    signed_in = a_state(relogin_since=NOW)
    signed_in.user.last_login = NOW + dt.timedelta(minutes=1)
    assert end_sessions(signed_in, nothing) == WHY["nothing_to_reconcile"]


# -- each fix, where Keycloak plays no part ----------------------------------------------------


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


def test_relogin_required_is_only_for_keycloak_controlled_organizations(
    no_keycloak, org, ann, system_actor
):
    session = django_session_for(ann)

    repair = repair_org_membership(user=ann, organization=org, actor=system_actor)

    assert statuses(repair)["create_local_membership"] == "done"
    assert outcome(repair, "end_sessions").message == WHY["not_controlled"]
    assert Session.objects.filter(session_key=session).exists()  # nothing to reconcile at login
    after = diagnose_org_membership(user=ann, organization=org, actor=system_actor)
    assert codes(after) == []


# -- each fix against the real Keycloak -------------------------------------------------------


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
def test_correct_sso_id_is_skipped_when_another_organization_holds_the_id(kc, system_actor):
    kc_org = kc.org()
    OrganizationFactory(short_name=f"holder-{kc.tag}", sso_organization_id=kc_org.id)
    org = OrganizationFactory(
        name=kc_org.name,
        short_name=kc_org.alias,
        sso_organization_id="00000000-0000-4000-8000-000000000003",
        email_domains=[kc_org.domain],
    )
    learner = Learner(kc, kc_org, member=True)

    result = repair_org_membership(
        user=learner.user, organization=org, fixes=["correct_sso_id"], actor=system_actor
    )

    assert outcome(result, "correct_sso_id").message == WHY["sso_taken"].format(
        other=f"holder-{kc.tag}", sso_id=kc_org.id
    )
    org.refresh_from_db()
    assert str(org.sso_organization_id) == "00000000-0000-4000-8000-000000000003"


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
def test_a_keycloak_change_asks_for_a_new_login_until_end_sessions_ends_the_old_ones(
    kc, system_actor
):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org, keep_until_seen=True)
    kc.sign_in(learner.kc_user)
    other_session = django_session_for(UserFactory())
    django_session_for(learner.user)
    assert kc.session_count(learner.kc_user) == 1

    repair_org_membership(
        user=learner.user, organization=org, fixes=["add_keycloak_membership"], actor=system_actor
    )

    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(after) == ["relogin_required"]
    assert after.ok  # a warning
    assert problem(after, "relogin_required").fix == "end_sessions"

    result = repair_org_membership(
        user=learner.user, organization=org, fixes=["end_sessions"], actor=system_actor
    )

    assert statuses(result)["end_sessions"] == "done"
    assert kc.session_count(learner.kc_user) == 0
    assert list(Session.objects.values_list("session_key", flat=True)) == [other_session]
    again = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(again) == []


@pytest.mark.keycloak
def test_a_sign_in_after_the_keycloak_change_clears_relogin_required(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    UserOrganizationMappingFactory(user=learner.user, organization=org, keep_until_seen=True)
    repair_org_membership(
        user=learner.user, organization=org, fixes=["add_keycloak_membership"], actor=system_actor
    )
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(after) == ["relogin_required"]

    learner.user.last_login = timezone.now()
    learner.user.save()

    again = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(again) == []


@pytest.mark.keycloak
def test_a_whole_repair_ends_the_sessions_after_its_keycloak_changes(kc, system_actor):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True)
    kc.sign_in(learner.kc_user)
    other_session = django_session_for(UserFactory())
    django_session_for(learner.user)

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result)["add_keycloak_membership"] == "done"
    assert statuses(result)["end_sessions"] == "done"
    assert kc.session_count(learner.kc_user) == 0
    assert list(Session.objects.values_list("session_key", flat=True)) == [other_session]
    # Every session that predates the change is gone: the next visit is a sign-in.
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(after) == []


@pytest.mark.keycloak
def test_end_sessions_with_no_open_session_clears_relogin_required(kc, system_actor):
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True, member=True)
    UserOrganizationMappingFactory(user=learner.user, organization=org)
    repair_org_membership(
        user=learner.user, organization=org, fixes=["delete_password"], actor=system_actor
    )
    before = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(before) == ["relogin_required"]
    assert kc.session_count(learner.kc_user) == 0

    ack = repair_org_membership(
        user=learner.user, organization=org, fixes=["end_sessions"], actor=system_actor
    )

    assert statuses(ack) == {"end_sessions": "done"} and ack.changed
    assert "has no open session" in ack.outcomes[0].message
    assert ack.keycloak_calls == ()
    row = SupportAction.objects.filter(action="repair_org_membership").first()
    assert row.outcome == "changed" and row.changes == [
        {
            "object": f"{learner.user.username} at {org.short_name}",
            "field": "relogin_required",
            "before": True,
            "after": False,
        }
    ]
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert codes(after) == []
    again = repair_org_membership(
        user=learner.user, organization=org, fixes=["end_sessions"], actor=system_actor
    )
    assert statuses(again) == {"end_sessions": "skipped"} and not again.changed
    assert again.outcomes[0].message == WHY["nothing_to_reconcile"]
