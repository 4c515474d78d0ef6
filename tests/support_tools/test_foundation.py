"""The audit trail, permissions, demo data: the parts every playbook stands on."""

import pytest
from django.contrib.auth.models import Group

from orgs.models import Organization
from support_tools.actors import Actor
from support_tools.audit import UNEXPECTED_ERROR, apply_fields, support_action
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import ACTION_PERMISSIONS, SupportAction
from support_tools.permissions import SUPPORT_GROUP, SUPPORT_LEADS_GROUP, ActionSpec
from support_tools.secrets import mask_token
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

DEMO = ActionSpec("demo", preview="auth.view_user", apply=("run_ensure_amc_admin",))


def test_mask_token_keeps_at_most_four_characters():
    assert mask_token("abcdefgh") == "…efgh"
    assert mask_token("abc") == "…"
    assert mask_token("") is None and mask_token(None) is None


def test_a_change_and_its_audit_row_share_one_transaction(system_actor):
    with (
        pytest.raises(RuntimeError),
        support_action(DEMO, actor=system_actor, inputs={"x": 1}) as trail,
    ):
        org = OrganizationFactory(short_name="temp")
        trail.created(org)
        raise RuntimeError("boom")
    assert not Organization.objects.filter(short_name="temp").exists()
    row = SupportAction.objects.get()
    assert row.outcome == "failed" and row.changes == []
    assert row.error == UNEXPECTED_ERROR.format(action="demo", detail="RuntimeError")


def test_a_refused_action_keeps_external_notes(system_actor):
    with (
        pytest.raises(SupportError),
        support_action(DEMO, actor=system_actor, inputs={}) as trail,
    ):
        trail.note("Keycloak: password deleted")
        trail.created("orgs.Organization")
        raise SupportError("Keycloak refused the second call.")
    row = SupportAction.objects.get()
    assert row.changes == [{"external": "Keycloak: password deleted"}]
    assert row.error == "Keycloak refused the second call."


def test_dry_run_rolls_back_and_still_records(system_actor):
    with support_action(DEMO, actor=system_actor, inputs={}, dry_run=True) as trail:
        org = OrganizationFactory(short_name="dry")
        trail.created(org, {"short_name": "dry"})
    assert not Organization.objects.filter(short_name="dry").exists()
    row = SupportAction.objects.get()
    assert row.dry_run and row.outcome == "changed" and row.changes[0]["created"]


def test_secret_changes_are_masked(system_actor):
    with support_action(DEMO, actor=system_actor, inputs={}) as trail:
        trail.changed(
            "accounts.AmcAccount#1", "access_token", "oldsecret1", "newsecret2", secret=True
        )
    change = SupportAction.objects.get().changes[0]
    assert (change["before"], change["after"]) == ("…ret1", "…ret2")


def test_apply_fields_saves_and_records_only_what_differs(system_actor):
    org = OrganizationFactory(short_name="keep", name="Old name", active=True)
    with support_action(DEMO, actor=system_actor, inputs={}) as trail:
        changed = trail.update(org, {"name": "New name", "active": True})
    assert changed == ["name"]
    org.refresh_from_db()
    assert org.name == "New name"
    row = SupportAction.objects.get()
    assert row.changes == [
        {
            "object": f"orgs.Organization#{org.pk}",
            "field": "name",
            "before": "Old name",
            "after": "New name",
        }
    ]
    assert apply_fields(org, {"name": "New name", "active": True}) == ()


def test_the_spec_decides_preview_and_apply(support_user, viewer_user):
    support = Actor.for_user(support_user, door="api")
    viewer = Actor.for_user(viewer_user, door="api")
    assert DEMO.allows(viewer, dry_run=True) and not DEMO.allows(viewer, dry_run=False)
    assert DEMO.can_preview(viewer) and not DEMO.can_apply(viewer)
    assert DEMO.allows(support, dry_run=False) and DEMO.can_apply(support)
    diagnosis = ActionSpec("look", preview="auth.view_user")
    assert not diagnosis.can_apply(support) and diagnosis.allows(support, dry_run=False)


def test_a_refused_run_is_audited_and_a_dry_run_is_not_refused(viewer_user):
    viewer = Actor.for_user(viewer_user, door="api")
    with support_action(DEMO, actor=viewer, inputs={}, dry_run=True):
        pass
    with pytest.raises(SupportError) as refused, support_action(DEMO, actor=viewer, inputs={}):
        pass
    assert refused.value.kind == ErrorKind.PERMISSION
    rows = list(SupportAction.objects.order_by("id").values_list("outcome", "error"))
    assert rows == [("unchanged", ""), ("failed", PERMISSION_DENIED.format(action="demo"))]


def test_support_groups_hold_view_and_action_permissions():
    support = set(
        Group.objects.get(name=SUPPORT_GROUP).permissions.values_list("codename", flat=True)
    )
    leads = set(
        Group.objects.get(name=SUPPORT_LEADS_GROUP).permissions.values_list("codename", flat=True)
    )
    actions = {c for c, _ in ACTION_PERMISSIONS}
    assert actions - {"run_add_contract_seats"} <= support
    assert "run_add_contract_seats" not in support and actions <= leads
    assert {"view_user", "view_organization", "view_supportaction", "view_amcaccount"} <= support
    assert {"view_sweep", "view_finding"} <= support  # the console's: what Health shows
    assert not any(c.startswith(("add_", "change_", "delete_")) for c in support)


def test_text_the_database_cannot_keep_is_escaped_in_the_audit_row(system_actor):
    with (
        pytest.raises(SupportError),
        support_action(DEMO, actor=system_actor, inputs={"code": "ab\x00cd", "user": "caf\udce9"}),
    ):
        raise SupportError("No code ab\x00cd exists.")
    row = SupportAction.objects.get()
    assert row.inputs == {"code": "ab\\x00cd", "user": "caf\\udce9"}
    assert row.error == "No code ab\\x00cd exists."


def test_about_finds_the_subject_and_every_learner_a_bulk_run_touched(system_actor):
    from tests.factories import UserFactory

    ann, bob, cid = UserFactory(), UserFactory(), UserFactory()
    with support_action(DEMO, actor=system_actor, inputs={}) as trail:
        trail.about(ann)
    with support_action(DEMO, actor=system_actor, inputs={}) as trail:
        trail.touched(bob, key="UNI-1", outcome="linked")
        trail.touched(ann, key="UNI-2", outcome="unlinked")
    single, bulk = SupportAction.objects.order_by("id")
    assert list(SupportAction.objects.about(ann)) == [bulk, single]
    assert list(SupportAction.objects.about(bob)) == [bulk]
    assert not SupportAction.objects.about(cid).exists()
    assert sorted(bulk.learners.values_list("key", "outcome")) == [
        ("UNI-1", "linked"),
        ("UNI-2", "unlinked"),
    ]
