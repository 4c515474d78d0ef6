"""repair_org_membership: the plan, the phases (Keycloak first, then the local side under
locks), failures part-way and permissions; locally and against the real Keycloak."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection

from orgs.keycloak import KEYCLOAK_FORBIDDEN, Credential, KeycloakGateway
from orgs.membership import (
    FIX_PERMISSION_DENIED,
    REPAIR_KEYCLOAK_DOWN,
    REPAIR_STOPPED,
    UNKNOWN_FIX,
    MembershipRepairFailed,
    diagnose_org_membership,
    parse_fixes,
    repair_org_membership,
)
from orgs.membership.fixes import WHY
from orgs.membership.names import PERM_KEYCLOAK, PERM_LOCAL, Fix
from orgs.membership.repair import NOTHING_DONE, plan_fixes
from orgs.models import UserOrganizationMapping
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.factories import (
    ContractFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)
from tests.orgs.membership.world import (
    Learner,
    a_state,
    codes,
    local_org,
    outcome,
    problem,
    statuses,
)

pytestmark = pytest.mark.django_db


# -- phase 1, the plan: it writes nothing ----------------------------------------------------------


def test_planning_reads_nothing_and_gives_the_same_plan_twice(django_assert_num_queries):
    state = a_state(
        identity_providers=("acme-idp",),
        passwords=(Credential(id="pw", type="password"),),
        kc_member=False,
        mapping=None,
    )
    actor = Actor.system("tests")

    with django_assert_num_queries(0):
        first = plan_fixes(state, list(Fix), actor, dry_run=False)
        second = plan_fixes(state, list(Fix), actor, dry_run=False)

    assert first == second
    assert [item.step.fix for item in first if item.runs] == [
        Fix.DELETE_PASSWORD,
        Fix.END_SESSIONS,  # after the password's deletion, which needs a new sign-in
        Fix.CREATE_LOCAL_MEMBERSHIP,
    ]
    assert {item.step.fix: item.skip for item in first if not item.runs} == {
        Fix.ADD_KEYCLOAK_MEMBERSHIP: WHY["has_idp"].format(idps="acme-idp"),
        Fix.CORRECT_SSO_ID: WHY["sso_found"],
        Fix.KEEP_UNTIL_SEEN: WHY["no_mapping"],
        Fix.ADD_CONTRACT_MEMBERSHIPS: WHY["contracts_ok"],
    }


def test_a_real_run_skips_what_the_actor_may_not_apply_and_a_dry_run_shows_it(viewer_user):
    viewer_user.user_permissions.add(Permission.objects.get(codename=PERM_LOCAL))
    # fetched again: the user object caches the permissions it has been asked about
    actor = Actor.for_user(get_user_model().objects.get(pk=viewer_user.pk), door="admin")
    state = a_state(kc_member=False, mapping=None)

    real = {i.step.fix: i for i in plan_fixes(state, list(Fix), actor, dry_run=False)}
    dry = {i.step.fix: i for i in plan_fixes(state, list(Fix), actor, dry_run=True)}

    needs = WHY["permission"].format(perm=PERM_KEYCLOAK)
    assert real[Fix.ADD_KEYCLOAK_MEMBERSHIP].skip == needs
    assert real[Fix.END_SESSIONS].skip == needs
    assert real[Fix.CREATE_LOCAL_MEMBERSHIP].runs and real[Fix.CREATE_LOCAL_MEMBERSHIP].permitted
    item = dry[Fix.ADD_KEYCLOAK_MEMBERSHIP]
    assert item.runs and not item.permitted  # shown, saying which permission applying needs
    assert dry[Fix.END_SESSIONS].runs  # it follows the Keycloak change the dry run shows


# -- where Keycloak plays no part, or is not configured ----------------------------------------


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


def test_a_viewer_previews_the_repair_but_may_not_apply_it(no_keycloak, org, ann, viewer_user):
    ContractFactory(organization=org, membership_type="managed", name="Managed")
    viewer = Actor.for_user(viewer_user, door="api")

    preview = repair_org_membership(user=ann, organization=org, actor=viewer, dry_run=True)

    assert preview.changed and preview.dry_run
    assert statuses(preview) == {
        "delete_password": "skipped",
        "add_keycloak_membership": "skipped",
        "end_sessions": "skipped",
        "correct_sso_id": "skipped",
        "create_local_membership": "would_do",
        "keep_until_seen": "skipped",
        "add_contract_memberships": "would_do",
    }
    assert outcome(preview, "add_contract_memberships").message == WHY["apply_needs"].format(
        description="would add ann to the contracts Managed", perm="run_repair_org_membership"
    )
    with pytest.raises(SupportError) as refused:
        repair_org_membership(user=ann, organization=org, actor=viewer)
    assert refused.value.kind == ErrorKind.PERMISSION
    assert refused.value.message == PERMISSION_DENIED.format(action="repair_org_membership")
    rows = SupportAction.objects.filter(action="repair_org_membership").order_by("id")
    assert list(rows.values_list("actor", "dry_run", "outcome", "error")) == [
        (viewer_user.pk, True, "changed", ""),
        (viewer_user.pk, False, "failed", refused.value.message),
    ]
    assert not UserOrganizationMapping.objects.exists() and not ann.contracts.exists()


def test_a_dry_run_says_what_the_real_run_then_does(no_keycloak, org, ann, system_actor):
    ContractFactory(organization=org, membership_type="auto", name="Auto")
    UserOrganizationMappingFactory(user=ann, organization=org, is_active=False)

    preview = repair_org_membership(user=ann, organization=org, actor=system_actor, dry_run=True)
    real = repair_org_membership(user=ann, organization=org, actor=system_actor)

    assert {f: s.replace("would_do", "done") for f, s in statuses(preview).items()} == statuses(
        real
    )
    assert SupportAction.objects.filter(dry_run=True).get().changes == []


# -- against the real Keycloak ----------------------------------------------------------------


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

    with pytest.raises(MembershipRepairFailed) as stopped:
        repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    result = stopped.value.result
    assert stopped.value.kind == ErrorKind.UNAVAILABLE
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
    assert row.outcome == "failed" and row.error == stopped.value.message
    assert row.result["failed_fixes"] == ["end_sessions"]
    assert stopped.value.message.startswith(REPAIR_STOPPED.split("{")[0] + "end_sessions")
    assert result.keycloak_calls[0].removeprefix("Keycloak: ") in stopped.value.message
    # Keycloak did change: the learner must sign in again for it to count.
    after = diagnose_org_membership(user=learner.user, organization=org, actor=system_actor)
    assert "relogin_required" in codes(after)


@pytest.mark.keycloak
def test_keycloak_failing_at_the_first_call_fails_the_repair(kc, settings, system_actor):
    # Without manage-users the password cannot be deleted: the very first write fails.
    settings.KEYCLOAK_CLIENT_ID, settings.KEYCLOAK_CLIENT_SECRET = kc.service_client(
        ["view-users", "manage-realm"]
    )
    kc_org = kc.org(idp=True)
    org = local_org(kc_org)
    learner = Learner(kc, kc_org, password=True)

    with pytest.raises(MembershipRepairFailed) as stopped:
        repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert stopped.value.kind == ErrorKind.UNAVAILABLE
    assert statuses(stopped.value.result)["delete_password"] == "failed"
    assert stopped.value.result.keycloak_calls == ()
    assert f"Done in Keycloak before it: {NOTHING_DONE}." in stopped.value.message
    assert kc.credential_types(learner.kc_user) == ["password"]
    assert not UserOrganizationMapping.objects.exists()
    row = SupportAction.objects.get(action="repair_org_membership")
    assert row.outcome == "failed" and row.changes == []
    assert row.result["failed_fixes"] == ["delete_password"]


@pytest.mark.keycloak
def test_local_fixes_are_checked_again_under_the_lock(kc, system_actor, monkeypatch):
    kc_org = kc.org()
    org = local_org(kc_org)
    learner = Learner(kc, kc_org)
    real_add_member = KeycloakGateway.add_member

    def add_member_while_another_repair_runs(self, organization_id, user_id):
        real_add_member(self, organization_id, user_id)
        # What a concurrent repair wrote while this one waited on Keycloak.
        UserOrganizationMappingFactory(user=learner.user, organization=org, keep_until_seen=True)

    monkeypatch.setattr(KeycloakGateway, "add_member", add_member_while_another_repair_runs)

    result = repair_org_membership(user=learner.user, organization=org, actor=system_actor)

    assert statuses(result)["add_keycloak_membership"] == "done"
    assert outcome(result, "create_local_membership").status == "skipped"
    assert outcome(result, "create_local_membership").message == WHY["mapping_ok"]
    assert UserOrganizationMapping.objects.filter(user=learner.user).count() == 1


@pytest.mark.postgres
@pytest.mark.keycloak
@pytest.mark.django_db(transaction=True)
def test_a_dry_run_does_not_wait_for_a_repair_waiting_on_keycloak(kc, monkeypatch):
    kc_org = kc.org()
    org = local_org(kc_org)
    slow, other = Learner(kc, kc_org), Learner(kc, kc_org)
    in_keycloak, release = threading.Event(), threading.Event()
    real_add_member = KeycloakGateway.add_member

    def held_add_member(self, organization_id, user_id):
        in_keycloak.set()
        release.wait(timeout=120)  # Keycloak "slow" until the test lets it answer
        real_add_member(self, organization_id, user_id)

    monkeypatch.setattr(KeycloakGateway, "add_member", held_add_member)
    results = {}

    def run(name, user, **kwargs):
        try:
            results[name] = repair_org_membership(
                user=user, organization=org, actor=Actor.system(name), **kwargs
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[name] = exc
        finally:
            connection.close()

    repair = threading.Thread(target=run, args=("repair", slow.user))
    dry_run = threading.Thread(target=run, args=("dry run", other.user), kwargs={"dry_run": True})
    repair.start()
    try:
        assert in_keycloak.wait(timeout=60)
        dry_run.start()
        dry_run.join(timeout=60)
        assert not dry_run.is_alive(), "the dry run waited for the repair held in Keycloak"
    finally:
        release.set()
        repair.join(timeout=120)
        if dry_run.ident is not None:  # started
            dry_run.join(timeout=120)

    assert statuses(results["dry run"])["add_keycloak_membership"] == "would_do"
    assert statuses(results["repair"])["add_keycloak_membership"] == "done"
    assert kc.organization_ids_of(slow.kc_user) == {kc_org.id}
    assert UserOrganizationMapping.objects.filter(user=slow.user, organization=org).exists()


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
    preview = repair_org_membership(
        user=learner.user,
        organization=org,
        fixes=["add_keycloak_membership"],
        actor=actor,
        dry_run=True,
    )
    assert statuses(preview) == {"add_keycloak_membership": "would_do"}
    assert preview.outcomes[0].message.endswith(
        "applying it needs the permission run_repair_keycloak_membership"
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
