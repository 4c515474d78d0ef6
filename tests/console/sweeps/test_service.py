"""run_sweep and fix_findings: what a run keeps, its audit trail, bulk fixes through the
playbooks' services (idempotent, one audited call per learner), permissions and bad input."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import Permission

from console.sweeps.fixes import BULK_FIXES, FAILED, FIX_PERMISSION_DENIED, LEFT_ALONE, UNCHANGED
from console.sweeps.models import Finding, Sweep
from console.sweeps.playbooks import ALL_CODES, FIXES_OF_CODE
from console.sweeps.service import (
    NO_SWEEP,
    UNKNOWN_CODE,
    UNKNOWN_PLAYBOOK,
    fix_findings,
    get_sweep,
    previous_counts,
    run_sweep,
    stored_result,
)
from orgs.amc.services import ORG_SITE_COUNT
from support_tools.actors import Actor
from support_tools.errors import ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.console.sweeps import population
from tests.factories import (
    AccessTokenFactory,
    OrganizationFactory,
    UserFactory,
    UserOrganizationMappingFactory,
)

pytestmark = pytest.mark.django_db

FIXABLE = sorted(c for c, fixes in FIXES_OF_CODE.items() if fixes)


def a_platform(seed, kc, amc_app):
    rng = random.Random(seed)
    population.amc_admins(rng, 15, amc_app)
    population.code_contracts(rng, 12)
    population.program_learners(rng, 15)
    population.membership_world(rng, kc, 20)


@pytest.mark.parametrize("seed", [1, 2])
def test_fix_clears_every_fixable_finding_and_a_second_run_finds_nothing_to_fix(
    seed, fake_kc, amc_app, system_actor
):
    a_platform(seed, fake_kc, amc_app)

    first = run_sweep(fix=FIXABLE, actor=system_actor)

    assert first.changed and not first.dry_run
    # the one refusal: an AMC admin none of whose organizations has exactly one site, which
    # the service will not guess (the sweep lists org_site_count for them)
    stuck = {f.username for f in first.findings if f.code == "org_site_count"}
    failed = [o for o in first.fixes if o.status == FAILED]
    assert all(o.fix == "ensure_amc_token" and o.user in stuck for o in failed)
    for o in failed:
        assert o.message in {ORG_SITE_COUNT.format(org=o.target, count=n) for n in (0, 2)}
    fixed = {c for o in first.fixes if o.status == "changed" for c in o.codes}
    assert len(fixed) >= 10

    second = run_sweep(fix=FIXABLE, actor=system_actor)

    assert not second.changed
    assert {(o.user, o.status) for o in second.fixes if o.status == FAILED} == {
        (o.user, o.status) for o in failed
    }
    assert {o.status for o in second.fixes} <= {UNCHANGED, LEFT_ALONE, FAILED}
    # a finding left with a bulk fix is one its service leaves as it is, and says why
    unchanged = {(o.user, o.target) for o in second.fixes if o.status == UNCHANGED}
    for f in second.findings:
        if f.fix in BULK_FIXES:
            assert (f.username, f.target) in unchanged or f.username in stuck, f


def test_each_fix_is_audited_about_its_learner_and_the_sweep_about_everyone(
    amc_app, system_actor, no_keycloak
):
    org = OrganizationFactory(short_name="acme")
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    for user in (ann, bob):
        UserOrganizationMappingFactory(user=user, organization=org, is_amc_admin=True)
    AccessTokenFactory(user=bob, application=amc_app)

    result = run_sweep(playbooks=["amc"], fix=["access_token_missing"], actor=system_actor)

    assert [(o.fix, o.user, o.status) for o in result.fixes] == [
        ("ensure_amc_token", "ann", "changed")
    ]
    ann_actions = list(SupportAction.objects.about(ann).values_list("action", flat=True))
    assert ann_actions == ["ensure_amc_token", "sweep"]
    assert list(SupportAction.objects.about(bob).values_list("action", flat=True)) == ["sweep"]
    row = SupportAction.objects.get(action="sweep")
    assert row.outcome == "problems" and row.inputs["fix"] == ["access_token_missing"]
    assert row.result["sweep"] == result.sweep_id


def test_a_dry_run_fixes_nothing_and_says_what_would_change(amc_app, system_actor, no_keycloak):
    org = OrganizationFactory(short_name="acme")
    ann = UserFactory(username="ann")
    UserOrganizationMappingFactory(user=ann, organization=org, is_amc_admin=True)

    result = run_sweep(
        playbooks=["amc"], fix=["access_token_missing"], actor=system_actor, dry_run=True
    )

    assert result.changed and result.dry_run
    assert [o.status for o in result.fixes] == ["would_change"]
    assert not ann.oauth2_provider_accesstoken.exists()
    again = run_sweep(playbooks=["amc"], actor=system_actor)
    assert "access_token_missing" in again.counts


def test_findings_without_a_bulk_fix_are_left_and_listed(system_actor, no_keycloak):
    population.code_contracts(random.Random(1), 12)

    result = run_sweep(
        playbooks=["codes"], fix=["contract_full", "contract_inactive"], actor=system_actor
    )

    assert result.fixes and {o.status for o in result.fixes} == {LEFT_ALONE}
    assert any("commercial decision" in o.message for o in result.fixes)
    assert not result.changed


def test_a_real_fix_needs_each_fixs_permission_and_is_refused_whole(viewer_user, no_keycloak):
    population.code_contracts(random.Random(2), 8)
    viewer = Actor.for_user(viewer_user, door="api")

    with pytest.raises(SupportError) as exc:
        run_sweep(playbooks=["codes"], fix=["code_dates_mismatch"], actor=viewer)

    assert exc.value.kind == ErrorKind.PERMISSION
    assert exc.value.message == FIX_PERMISSION_DENIED.format(
        perm="run_sync_code_dates", fix="sync_code_dates"
    )
    assert not Sweep.objects.exists()
    assert SupportAction.objects.filter(action="sweep", outcome="failed").count() == 1
    assert not SupportAction.objects.filter(action="sync_code_dates").exists()
    # the dry run is theirs to see
    preview = run_sweep(
        playbooks=["codes"], fix=["code_dates_mismatch"], actor=viewer, dry_run=True
    )
    assert preview.fixes and {o.status for o in preview.fixes} <= {"would_change", "unchanged"}


def test_a_sweep_needs_view_access_to_users(no_keycloak):
    nobody = UserFactory(username="nobody", is_staff=True)
    with pytest.raises(SupportError) as exc:
        run_sweep(actor=Actor.for_user(nobody, door="api"))
    assert exc.value.kind == ErrorKind.PERMISSION
    assert SupportAction.objects.get().outcome == "failed"
    nobody.user_permissions.add(Permission.objects.get(codename="view_user"))
    nobody = type(nobody).objects.get(pk=nobody.pk)
    assert run_sweep(actor=Actor.for_user(nobody, door="api")).findings == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"playbooks": ["amc", "nope"]},
            UNKNOWN_PLAYBOOK.format(name="nope", known="amc, membership, codes, programs"),
        ),
        (
            {"fix": ["no_such_code"]},
            UNKNOWN_CODE.format(code="no_such_code", known=", ".join(sorted(ALL_CODES))),
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(kwargs, message, system_actor):
    with pytest.raises(SupportError) as exc:
        run_sweep(actor=system_actor, **kwargs)
    assert (exc.value.kind, exc.value.message) == (ErrorKind.BAD_INPUT, message)
    assert not Sweep.objects.exists()


def test_a_run_keeps_its_counts_findings_and_the_change_since_the_last(
    amc_app, system_actor, no_keycloak
):
    org = OrganizationFactory(short_name="acme")
    for name in ("ann", "bob"):
        UserOrganizationMappingFactory(
            user=UserFactory(username=name), organization=org, is_amc_admin=True
        )
    first = get_sweep(run_sweep(playbooks=["amc"], actor=system_actor).sweep_id)
    UserOrganizationMappingFactory(
        user=UserFactory(username="cy"), organization=org, is_amc_admin=True
    )
    second = get_sweep(run_sweep(actor=system_actor).sweep_id)

    assert first.counts["amc"]["access_token_missing"] == 2
    assert second.counts["amc"]["access_token_missing"] == 3
    assert previous_counts(second) == {
        "amc": first.counts["amc"],
        "membership": None,
        "codes": None,
        "programs": None,
    }
    assert second.errors == Finding.objects.filter(sweep=second, severity="error").count()
    kept = stored_result(second, codes=["access_token_missing"])
    assert sorted(f.username for f in kept.findings) == ["ann", "bob", "cy"]
    assert get_sweep() == second


def test_fix_findings_fixes_what_a_kept_sweep_found(amc_app, system_actor, no_keycloak):
    org = OrganizationFactory(short_name="acme")
    UserOrganizationMappingFactory(
        user=UserFactory(username="ann"), organization=org, is_amc_admin=True
    )
    sweep = get_sweep(run_sweep(playbooks=["amc"], actor=system_actor).sweep_id)

    outcomes = fix_findings(sweep=sweep, codes=["amc_account_missing"], actor=system_actor)

    assert [(o.fix, o.status) for o in outcomes] == [("ensure_amc_token", "changed")]
    sweep.refresh_from_db()
    assert sweep.fix_codes == ["amc_account_missing"] and sweep.fixes[0]["status"] == "changed"
    assert (
        fix_findings(sweep=sweep, codes=["amc_account_missing"], actor=system_actor)[0].status
        == UNCHANGED
    )


def test_no_sweep_yet():
    with pytest.raises(SupportError) as exc:
        get_sweep()
    assert (exc.value.kind, exc.value.message) == (ErrorKind.NOT_FOUND, NO_SWEEP)


def test_old_findings_are_pruned_and_their_counts_kept(
    settings, system_actor, no_keycloak, django_capture_on_commit_callbacks
):
    settings.SWEEP_KEEP_FINDINGS = 2
    population.code_contracts(random.Random(3), 6)
    ids = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            ids.append(run_sweep(playbooks=["codes"], actor=system_actor).sweep_id)

    oldest = Sweep.objects.get(pk=ids[0])
    assert oldest.findings_pruned and not oldest.findings.exists() and oldest.counts["codes"]
    assert all(not Sweep.objects.get(pk=i).findings_pruned for i in ids[1:])
    with pytest.raises(SupportError) as exc:
        stored_result(oldest)
    assert exc.value.kind == ErrorKind.CONFLICT
