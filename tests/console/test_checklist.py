import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from console import checklist as console
from console.checklist import Section, learner_checklist
from support_tools.actors import Actor
from support_tools.errors import SupportError
from support_tools.results import error, warning
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


def test_checklist_hides_fixes_the_actor_may_not_run(mat, support_user, viewer_user):
    allowed = learner_checklist(user=mat, actor=Actor.for_user(support_user, door="console"))
    (amc,) = [s for s in allowed.as_dict()["sections"] if s["key"] == "amc"]
    assert amc["status"] == "error"
    # Every fix is offered, once per section (two problems with one fix: one button).
    offered = [p["fix"] for p in amc["problems"] if p["fix_url"]]
    assert sorted(offered) == sorted({p["fix"] for p in amc["problems"] if p["fix"]})
    refused = learner_checklist(user=mat, actor=Actor.for_user(viewer_user, door="console"))
    (amc,) = [s for s in refused.as_dict()["sections"] if s["key"] == "amc"]
    assert [p["fix_url"] for p in amc["problems"]] == [None] * len(amc["problems"])


def test_one_failing_section_degrades_alone(mat, support_actor, monkeypatch):
    def down(user, actor):
        raise SupportError("Keycloak did not answer within 5 seconds.")

    monkeypatch.setattr(console, "SECTION_BUILDERS", [down, *console.SECTION_BUILDERS])
    sections = learner_checklist(user=mat, actor=support_actor).as_dict()["sections"]
    assert sections[0]["error"] == "Keycloak did not answer within 5 seconds."
    assert sections[0]["status"] == "error"
    assert any(s["key"] == "amc" and s["error"] is None for s in sections)


def test_section_status():
    assert Section(key="a", title="A").status == "ok"
    assert Section(key="a", title="A", problems=(warning("x", "m"),)).status == "warning"
    assert Section(key="a", title="A", problems=(error("x", "m"),)).status == "error"
    assert Section(key="a", title="A", error="down").status == "error"


def test_history_lists_repairs_not_the_consoles_own_reads(mat, support_user, client):
    from orgs.amc.services import ensure_amc_admin

    ensure_amc_admin(
        user="mat", organization="acme", actor=Actor.for_user(support_user, door="admin")
    )
    client.force_login(support_user)
    client.get(reverse("support:console-learner", args=[mat.pk]))
    history = learner_checklist(
        user=mat, actor=Actor.for_user(support_user, door="console")
    ).history
    assert [h.action for h in history.rows] == ["ensure_amc_admin"]


def test_api_checklist(mat, support_user):
    client = APIClient()
    assert client.get("/api/v1/learners/checklist", {"user": "mat"}).status_code in (401, 403)
    client.force_authenticate(support_user)
    data = client.get("/api/v1/learners/checklist", {"user": "mat@example.com"}).json()
    assert data["user"]["username"] == "mat" and data["ok"] is False
    assert data["sections"][0]["key"] == "amc"
    assert client.get("/api/v1/learners/checklist", {"user": "zed"}).status_code == 404


def test_membership_section_for_an_org_expected_by_email_domain(support_user):
    OrganizationFactory(short_name="uni", email_domains=["uni.example.edu"])
    lea = UserFactory(username="lea", email="lea@UNI.example.edu")
    checklist = learner_checklist(user=lea, actor=Actor.for_user(support_user, door="console"))
    (section,) = [s for s in checklist.as_dict()["sections"] if s["key"] == "membership-uni"]
    problem = next(p for p in section["problems"] if p["code"] == "local_membership_missing")
    assert problem["fix_url"].startswith(
        reverse("support:repair-org-membership", kwargs={"user_id": lea.pk})
    )
    assert "next=" in problem["fix_url"]


def test_redeemed_code_section_reports_the_contract_not_the_redemption(support_user):
    from tests.factories import CodeRedemptionFactory, ContractFactory, EnrollmentCodeFactory

    lea = UserFactory(username="lea")
    code = EnrollmentCodeFactory(contract=ContractFactory(active=False))
    CodeRedemptionFactory(code=code, user=lea)
    checklist = learner_checklist(user=lea, actor=Actor.for_user(support_user, door="console"))
    (section,) = [s for s in checklist.as_dict()["sections"] if s["key"] == f"code-{code.code}"]
    assert [p["code"] for p in section["problems"]] == ["contract_inactive"]


def test_program_section_flags_a_course_enrollment_left_behind(support_user):
    from enrollments.models import CourseEnrollment, ProgramCourseEnrollment, ProgramEnrollment

    lea = UserFactory(username="lea")
    pe = ProgramEnrollment.objects.create(
        user=lea,
        external_user_key="K1",
        program_uuid="6f1e4f5a-0000-4000-8000-000000000001",
        curriculum_uuid="6f1e4f5a-0000-4000-8000-000000000002",
        status="enrolled",
    )
    ce = CourseEnrollment.objects.create(
        user=lea, course_key="course-v1:U+C1+R", mode="masters", is_active=False
    )
    ProgramCourseEnrollment.objects.create(
        program_enrollment=pe,
        course_key="course-v1:U+C1+R",
        course_enrollment=ce,
        status="active",
    )
    ProgramCourseEnrollment.objects.create(
        program_enrollment=pe, course_key="course-v1:U+C2+R", status="active"
    )
    checklist = learner_checklist(user=lea, actor=Actor.for_user(support_user, door="console"))
    (section,) = [s for s in checklist.as_dict()["sections"] if s["key"].startswith("program-")]
    assert sorted(p["code"] for p in section["problems"]) == [
        "course_enrollment_missing",
        "course_enrollment_state",
    ]
    assert section["status"] == "warning"


# --- every check that applies, in words ---------------------------------------------------------


def _section(user, actor_user, key):
    checklist = learner_checklist(user=user, actor=Actor.for_user(actor_user, door="console"))
    (section,) = [s for s in checklist.as_dict()["sections"] if s["key"] == key]
    return section


def test_problems_carry_titles_and_fix_labels_and_keep_their_codes(mat, support_user):
    amc = _section(mat, support_user, "amc")
    problem = next(p for p in amc["problems"] if p["code"] == "access_token_missing")
    assert problem["title"] == "No AMC access token"
    assert (problem["fix"], problem["fix_label"]) == ("ensure_amc_token", "Renew the AMC tokens")
    assert set(problem) >= {"code", "severity", "message", "fix", "fix_url"}


def test_a_user_with_nothing_gets_an_amc_line_and_a_link_not_silence(amc_app, support_user):
    nobody = UserFactory(username="amc-no-org")
    amc = _section(nobody, support_user, "amc")
    assert amc["status"] == "not_checked" and amc["problems"] == []
    assert amc["note"] == console.NOT_AN_AMC_ADMIN.format(
        facts="no organization, no AMC account, no AMC token"
    )
    (link,) = amc["links"]
    assert link["label"] == "Diagnose AMC anyway"
    assert link["url"].startswith(
        reverse("support:diagnose-amc-user", kwargs={"user_id": nobody.pk})
    )
    assert learner_checklist(user=nobody, actor=Actor.for_user(support_user, door="console")).ok


def test_a_plain_member_is_not_painted_red_for_tokens_they_never_needed(amc_app, support_user):
    lea = UserFactory(username="lea")
    UserOrganizationMappingFactory(user=lea, organization=OrganizationFactory(short_name="uni"))
    amc = _section(lea, support_user, "amc")
    assert amc["status"] == "not_checked"
    assert "a member of uni but not as AMC admin" in amc["note"]


def test_an_amc_token_alone_is_enough_to_run_the_amc_checks(amc_app, support_user):
    from tests.factories import AccessTokenFactory

    tom = UserFactory(username="tom")
    AccessTokenFactory(user=tom, application=amc_app)
    amc = _section(tom, support_user, "amc")
    assert amc["note"] is None
    assert "no_organization" in {p["code"] for p in amc["problems"]}


def test_no_token_fix_beside_an_organization_without_exactly_one_site(amc_app, support_user):
    from tests.factories import SiteFactory

    org = OrganizationFactory(short_name="globex", sites=[SiteFactory(), SiteFactory()])
    two = UserFactory(username="amc-two-sites")
    UserOrganizationMappingFactory(user=two, organization=org, is_amc_admin=True)
    amc = _section(two, support_user, "amc")
    codes = {p["code"]: p for p in amc["problems"]}
    assert "org_site_count" in codes and codes["access_token_missing"]["fix"] == "ensure_amc_token"
    assert all(p["fix_url"] is None for p in amc["problems"])
    assert codes["access_token_missing"]["fix_note"].startswith("No fix offered: the repairs need")


def test_one_cause_is_shown_once_with_its_fix(amc_app, support_user):
    org = OrganizationFactory(short_name="acme", email_domains=["acme.example.edu"])
    inactive = UserFactory(username="amc-inactive-mapping", email="amc@acme.example.edu")
    UserOrganizationMappingFactory(
        user=inactive, organization=org, is_amc_admin=True, is_active=False
    )
    amc = _section(inactive, support_user, "amc")
    membership = _section(inactive, support_user, "membership-acme")
    cause = next(p for p in amc["problems"] if p["code"] == "org_mapping_inactive")
    assert cause["fix_url"] and cause["fix"] == "ensure_amc_admin"
    same = next(p for p in membership["problems"] if p["code"] == "local_membership_missing")
    assert same["fix_url"] is None
    assert same["fix_note"] == console.SAME_CAUSE.format(
        title="The organization membership is inactive or not AMC admin",
        section=console.AMC_TITLE,
    )


def test_adding_seats_is_offered_to_leads_only(support_user, lead_user):
    from tests.factories import CodeRedemptionFactory, ContractFactory, EnrollmentCodeFactory

    lea = UserFactory(username="lea")
    contract = ContractFactory(max_learners=1)
    contract.learners.add(UserFactory(username="first"))
    code = EnrollmentCodeFactory(contract=contract)
    CodeRedemptionFactory(code=code, user=lea)
    for who, offered in ((support_user, False), (lead_user, True)):
        section = _section(lea, who, f"code-{code.code}")
        full = next(p for p in section["problems"] if p["code"] == "contract_full")
        assert bool(full["fix_url"]) is offered
        assert (full["fix_note"] is None) is offered
