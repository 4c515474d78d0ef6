import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from console import checklist as console
from console.checklist import SEARCH_EMPTY, Section, find_learners, learner_checklist
from support_tools.actors import Actor
from support_tools.errors import SupportError
from support_tools.results import error, warning
from tests.factories import OrganizationFactory, UserFactory, UserOrganizationMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mat(amc_app):
    org = OrganizationFactory(short_name="acme")
    mat = UserFactory(username="mat", email="Mat@Example.com")
    UserOrganizationMappingFactory(user=mat, organization=org, is_amc_admin=True)
    return mat


def test_find_learners_by_email_username_or_part(mat):
    UserFactory(username="matilda", email="matilda@example.com")
    assert find_learners("mat@example.COM") == [mat]
    assert find_learners("mat") == [mat]
    assert {u.username for u in find_learners("example.com")} >= {"mat", "matilda"}
    with pytest.raises(SupportError, match=SEARCH_EMPTY):
        find_learners("  ")


def test_find_learners_by_external_user_key(mat):
    from enrollments.models import ProgramEnrollment

    ProgramEnrollment.objects.create(
        user=mat,
        external_user_key="REG-0042",
        program_uuid="6f1e4f5a-0000-4000-8000-000000000001",
        curriculum_uuid="6f1e4f5a-0000-4000-8000-000000000002",
        status="enrolled",
    )
    assert find_learners("reg-0042") == [mat]


def test_checklist_hides_fixes_the_actor_may_not_run(mat, support_user, viewer_user):
    allowed = learner_checklist(user=mat, actor=Actor.for_user(support_user, door="console"))
    (amc,) = [s for s in allowed.as_dict()["sections"] if s["key"] == "amc"]
    assert amc["status"] == "error"
    assert all(p["fix_url"] for p in amc["problems"] if p["fix"])
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


def test_console_pages(mat, client, support_user):
    client.force_login(support_user)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("support:console") in index
    found = client.get(reverse("support:console"), {"q": "mat@example.com"})
    assert found.status_code == 302
    page = client.get(found["Location"]).content.decode()
    assert 'id="section-amc"' in page and 'data-code="access_token_missing"' in page
    assert "Fix: ensure_amc_token" in page
    nothing = client.get(reverse("support:console"), {"q": "nobody-here"})
    assert "Nobody matches" in nothing.content.decode()


def test_console_needs_view_access(mat, client):
    staff = UserFactory(username="no-perms", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("support:console-learner", args=[mat.pk])).status_code == 403


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
    assert [h["action"] for h in history] == ["ensure_amc_admin"]


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
