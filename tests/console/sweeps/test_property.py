"""The sweep's promise, checked as a property over generated platforms: for every playbook, the
sweep finds exactly what the per-learner diagnosis finds, word for word, restricted to the
sweep's codes; no more, no fewer, each as often."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from console.sweeps.service import run_sweep
from enrollments.programs.diagnosis import diagnose_program_enrollments
from enrollments.programs.sweep import SWEEP_CODES as PROGRAM_CODES
from orgs.amc import diagnose_amc_user
from orgs.amc.sweep import SWEEP_CODES as AMC_CODES
from orgs.codes import diagnose_code
from orgs.codes.sweep import CONTRACT_NEARLY_FULL
from orgs.membership import diagnose_org_membership
from orgs.membership.sweep import ORG_CODES, USER_CODES
from orgs.models import EnrollmentCode, Organization, UserOrganizationMapping
from tests.console.sweeps import population

pytestmark = pytest.mark.django_db
User = get_user_model()

CONTRACT_CODES = {
    "contract_inactive",
    "contract_not_started",
    "contract_ended",
    "contract_full",
    "organization_inactive",
}
OWN_BLOCKERS = {"code_not_yet_active", "code_expired", "code_used"}


def said(problem) -> tuple:
    return (problem.code, str(problem.severity), problem.message, problem.fix)


def user_level(sweep, playbook) -> Counter:
    return Counter(
        (f.user_id, f.code, f.severity, f.message, f.fix)
        for f in sweep.findings
        if f.playbook == playbook and f.user_id is not None
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_amc_sweep_finds_what_each_admins_diagnosis_finds(seed, amc_app, system_actor):
    population.amc_admins(random.Random(seed), 30, amc_app)

    sweep = run_sweep(playbooks=["amc"], actor=system_actor)

    expected = Counter()
    admins = UserOrganizationMapping.objects.filter(is_active=True, is_amc_admin=True)
    for user in User.objects.filter(pk__in=admins.values("user_id")):
        for p in diagnose_amc_user(user=user, actor=system_actor).problems:
            if p.code in AMC_CODES:
                expected[(user.pk, *said(p))] += 1
    assert user_level(sweep, "amc") == expected
    assert len(expected) > 10  # the population is not trivially healthy


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_programs_sweep_finds_what_each_learners_diagnosis_finds(seed, system_actor):
    population.program_learners(random.Random(seed), 30)

    sweep = run_sweep(playbooks=["programs"], actor=system_actor)

    expected = Counter()
    for user in User.objects.filter(program_enrollments__isnull=False).distinct():
        for p in diagnose_program_enrollments(user=user, actor=system_actor).problems:
            if p.code in PROGRAM_CODES:
                expected[(user.pk, *said(p))] += 1
    assert user_level(sweep, "programs") == expected
    assert len({k[1] for k in expected}) == len(PROGRAM_CODES)  # every code is in play


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_codes_sweep_finds_what_each_codes_diagnosis_finds(seed, system_actor):
    population.code_contracts(random.Random(seed), 25)

    sweep = run_sweep(playbooks=["codes"], actor=system_actor)

    per_code, per_contract = Counter(), set()
    for code in EnrollmentCode.objects.select_related("contract__organization"):
        problems = diagnose_code(code_text=code.code, actor=system_actor).problems
        found = {p.code for p in problems}
        for p in problems:
            if p.code == "code_dates_mismatch":
                per_code[(code.code, *said(p))] += 1
            elif p.code in CONTRACT_CODES and not found & OWN_BLOCKERS:
                per_contract.add((str(code.contract), p.code, str(p.severity), p.fix))
    findings = [f for f in sweep.findings if f.code != CONTRACT_NEARLY_FULL]
    assert (
        Counter(
            (f.target, f.code, f.severity, f.message, f.fix)
            for f in findings
            if f.code == "code_dates_mismatch"
        )
        == per_code
    )
    contract_level = [
        (f.target, f.code, f.severity, f.fix) for f in findings if f.code != "code_dates_mismatch"
    ]
    assert len(contract_level) == len(set(contract_level))  # once per contract
    assert set(contract_level) == per_contract
    assert per_code and len({c for _, c, *_ in per_contract}) >= 4


@pytest.mark.parametrize("seed", [1, 2])
def test_membership_sweep_finds_what_each_learners_diagnosis_finds(seed, any_kc, system_actor):
    population.membership_world(random.Random(seed), any_kc, 40)

    sweep = run_sweep(playbooks=["membership"], actor=system_actor)

    expected, org_level = Counter(), set()
    for org in Organization.objects.filter(sso_organization_id__isnull=False):
        members = {u.email.lower() for u in _kc_members(org)}
        holders = UserOrganizationMapping.objects.filter(organization=org, is_active=True)
        users = set(User.objects.filter(pk__in=holders.values("user_id")))
        users |= {u for u in User.objects.all() if u.email.lower() in members}
        for user in users:
            diagnosis = diagnose_org_membership(user=user, organization=org, actor=system_actor)
            for p in diagnosis.problems:
                if p.code in USER_CODES:
                    expected[(user.pk, *said(p))] += 1
                elif p.code in ORG_CODES:
                    org_level.add((org.short_name, *said(p)))
    assert user_level(sweep, "membership") == expected
    assert {
        (f.target, f.code, f.severity, f.message, f.fix)
        for f in sweep.findings
        if f.user_id is None
    } == org_level
    assert {k[1] for k in expected} == USER_CODES  # every learner code is in play
    assert {k[1] for k in org_level} == {"sso_id_not_found"}


def _kc_members(org):
    from orgs import keycloak

    gw = keycloak.gateway()
    target = gw.get_organization(str(org.sso_organization_id))
    if target is None:
        found = gw.find_organizations(org.name, org.short_name)
        target = found[0] if len(found) == 1 else None
    if target is None:
        return []
    return [u for page in gw.organization_members(target.id) for u in page]
