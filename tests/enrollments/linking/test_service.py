import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollments.linking import service as linking
from enrollments.linking.plan import (
    ALREADY_ENROLLED,
    NO_MASTERS_MODE,
    NO_PROGRAM_ENROLLMENT,
    USER_NOT_FOUND,
    USERNAME_CASE,
)
from enrollments.linking.rows import DUPLICATE_KEY, DUPLICATE_USERNAME, MALFORMED_ROW
from enrollments.linking.service import (
    BAD_PROGRAM_UUID,
    NO_ROWS,
    PROGRAM_NOT_FOUND,
    link_program_enrollments,
)
from enrollments.linking.write import LINK_FAILED
from enrollments.models import (
    CourseAccessRole,
    CourseAccessRoleAssignment,
    CourseEnrollment,
    ProgramCourseEnrollment,
    ProgramEnrollment,
)
from support_tools.actors import Actor
from support_tools.errors import PERMISSION_DENIED, ErrorKind, SupportError
from support_tools.models import SupportAction
from tests.enrollments.factories import (
    CURRICULUM,
    PROGRAM,
    CourseAccessRoleAssignmentFactory,
    CourseAccessRoleFactory,
    CourseEnrollmentFactory,
    CourseModeFactory,
    ProgramCourseEnrollmentFactory,
    ProgramEnrollmentFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

C1, C2, C3 = (f"course-v1:UNI+C{n}+2025" for n in (1, 2, 3))


@pytest.fixture(autouse=True)
def modes():
    for course in (C1, C2, C3):
        CourseModeFactory(course_key=course, mode_slug="audit")
        CourseModeFactory(course_key=course, mode_slug="masters")
    CourseModeFactory(course_key=C3, mode_slug="verified")


def enrolled(key, courses=(C1, C2), user=None, statuses=None, **kwargs):
    """A program enrollment with one program course enrollment per course."""
    pe = ProgramEnrollmentFactory(external_user_key=key, user=user, **kwargs)
    for i, course in enumerate(courses):
        status = statuses[i] if statuses else "active"
        ProgramCourseEnrollmentFactory(program_enrollment=pe, course_key=course, status=status)
    return pe


def link(pairs, actor, **kwargs):
    return link_program_enrollments(program_uuid=PROGRAM, pairs=pairs, actor=actor, **kwargs)


def ce(user, course):
    return CourseEnrollment.objects.get(user=user, course_key=course)


def row(result, i=0):
    return result.as_dict()["results"][i]


# --- Linking ------------------------------------------------------------------------------


def test_links_and_creates_masters_enrollments_following_the_program_status(system_actor):
    bob = UserFactory(username="bob")
    pe = enrolled("EXT-1", courses=(C1, C2), statuses=["active", "inactive"])

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result) == {
        "external_user_key": "EXT-1",
        "username": "bob",
        "status": "linked",
        "message": "Linked to bob; masters course enrollments: 2 created.",
    }
    assert result.changed and result.counts["linked"] == 1
    pe.refresh_from_db()
    assert pe.user == bob
    assert (ce(bob, C1).mode, ce(bob, C1).is_active) == ("masters", True)
    assert (ce(bob, C2).mode, ce(bob, C2).is_active) == ("masters", False)
    for pce in pe.program_course_enrollments.all():
        assert pce.course_enrollment == ce(bob, pce.course_key)


def test_external_keys_match_case_insensitively(system_actor):
    bob = UserFactory(username="bob")
    pe = enrolled("Ext-Mixed")

    result = link([("  ext-MIXED ", "bob")], system_actor)

    assert row(result)["status"] == "linked"
    assert row(result)["external_user_key"] == "ext-MIXED"
    pe.refresh_from_db()
    assert pe.user == bob


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        ("audit", "masters", "1 moved to masters"),
        ("honor", "masters", "1 moved to masters"),
        ("masters", "masters", "1 kept"),
        ("verified", "verified", f"{C3} stays in verified mode (not masters)"),
        ("professional", "professional", f"{C3} stays in professional mode (not masters)"),
    ],
)
def test_existing_course_enrollment_modes(before, after, said, system_actor):
    bob = UserFactory(username="bob")
    existing = CourseEnrollmentFactory(user=bob, course_key=C3, mode=before, is_active=False)
    pe = enrolled("EXT-1", courses=(C3,))

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result)["status"] == "linked"
    assert said in row(result)["message"]
    existing.refresh_from_db()
    assert existing.mode == after
    assert existing.is_active is True  # the program course enrollment is active
    assert pe.program_course_enrollments.get().course_enrollment == existing
    assert CourseEnrollment.objects.filter(user=bob).count() == 1


def test_active_enrollment_becomes_inactive_when_the_program_course_is(system_actor):
    bob = UserFactory(username="bob")
    existing = CourseEnrollmentFactory(user=bob, course_key=C1, mode="masters", is_active=True)
    enrolled("EXT-1", courses=(C1,), statuses=["inactive"])

    link([("EXT-1", "bob")], system_actor)

    existing.refresh_from_db()
    assert (existing.mode, existing.is_active) == ("masters", False)


def test_course_without_masters_mode_is_a_row_error_and_writes_nothing(system_actor):
    UserFactory(username="bob")
    no_masters = "course-v1:UNI+NOM+2025"
    CourseModeFactory(course_key=no_masters, mode_slug="audit")
    pe = enrolled("EXT-1", courses=(C1, no_masters))
    enrolled("EXT-2")
    UserFactory(username="ann")

    result = link([("EXT-1", "bob"), ("EXT-2", "ann")], system_actor)

    assert row(result)["status"] == "error"
    assert row(result)["message"] == NO_MASTERS_MODE.format(course_key=no_masters)
    assert row(result, 1)["status"] == "linked"
    pe.refresh_from_db()
    assert pe.user is None
    assert not CourseEnrollment.objects.filter(user__username="bob").exists()


# --- Relinking ----------------------------------------------------------------------------


def test_relink_unlinks_the_previous_user_first(system_actor):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    no_audit = "course-v1:UNI+NOAUDIT+2025"
    CourseModeFactory(course_key=no_audit, mode_slug="masters")
    pe = enrolled("EXT-1", courses=(C1, no_audit), user=alice)
    for pce in pe.program_course_enrollments.all():
        pce.course_enrollment = CourseEnrollmentFactory(
            user=alice, course_key=pce.course_key, mode="masters"
        )
        pce.save()
    unrelated = CourseEnrollmentFactory(user=alice, course_key=C2, mode="masters")

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result)["status"] == "relinked"
    assert row(result)["message"].startswith("Relinked from alice to bob; 2 course enrollment(s)")
    pe.refresh_from_db()
    assert pe.user == bob
    assert (ce(alice, C1).mode, ce(alice, C1).is_active) == ("audit", False)
    # no audit mode in that course: deactivated, mode kept
    assert (ce(alice, no_audit).mode, ce(alice, no_audit).is_active) == ("masters", False)
    unrelated.refresh_from_db()
    assert unrelated.is_active and unrelated.mode == "masters"
    for pce in pe.program_course_enrollments.all():
        assert pce.course_enrollment == ce(bob, pce.course_key)
        assert ce(bob, pce.course_key).mode == "masters"
    assert not ProgramCourseEnrollment.objects.filter(course_enrollment__user=alice).exists()


def test_already_linked_to_that_user_is_unchanged_and_writes_nothing(system_actor):
    bob = UserFactory(username="bob")
    enrolled("EXT-1", user=bob)  # course enrollments not attached: nothing is touched

    result = link([("ext-1", "bob")], system_actor)

    assert row(result)["status"] == "unchanged"
    assert row(result)["message"] == "Already linked to bob."
    assert result.changed is False
    assert not CourseEnrollment.objects.exists()
    assert SupportAction.objects.get().outcome == "unchanged"


def test_running_the_same_sheet_twice_changes_nothing_the_second_time(system_actor):
    alice, _ = UserFactory(username="alice"), UserFactory(username="bob")
    UserFactory(username="carl")
    UserFactory(username="dora")
    enrolled("EXT-1", user=alice)
    enrolled("EXT-2", courses=(C1, C2, C3))
    CourseAccessRoleAssignmentFactory(
        enrollment=ProgramCourseEnrollmentFactory(
            program_enrollment=enrolled("EXT-3", courses=()), course_key=C1
        )
    )
    sheet = [("EXT-1", "bob"), ("EXT-2", "carl"), ("EXT-3", "dora"), ("EXT-404", "bob2")]

    first = link(sheet, system_actor)
    snapshot = list(
        CourseEnrollment.objects.values_list("user_id", "course_key", "mode", "is_active")
    )
    second = link(sheet, system_actor)

    assert [r["status"] for r in first.as_dict()["results"]] == [
        "relinked",
        "linked",
        "linked",
        "error",
    ]
    assert [r["status"] for r in second.as_dict()["results"]] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "error",
    ]
    assert second.changed is False and second.as_dict()["changed"] is False
    assert snapshot == list(
        CourseEnrollment.objects.values_list("user_id", "course_key", "mode", "is_active")
    )
    outcomes = list(SupportAction.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["changed", "unchanged"]


# --- Waiting roles ------------------------------------------------------------------------


def test_waiting_roles_become_course_access_roles(system_actor):
    bob = UserFactory(username="bob")
    pe = enrolled("EXT-1", courses=(C1, C2))
    for pce in pe.program_course_enrollments.all():
        CourseAccessRoleAssignmentFactory(enrollment=pce, role="staff")
    CourseAccessRoleFactory(user=bob, course_key=C2, role="staff", org="UNI")  # already there

    result = link([("EXT-1", "bob")], system_actor)

    assert f"waiting role(s) granted: staff in {C1}, staff in {C2}" in row(result)["message"]
    roles = set(CourseAccessRole.objects.filter(user=bob).values_list("course_key", "role", "org"))
    assert roles == {(C1, "staff", "UNI"), (C2, "staff", "UNI")}
    assert not CourseAccessRoleAssignment.objects.exists()


def test_roles_waiting_on_an_already_linked_learner_are_granted_and_nothing_else(system_actor):
    bob = UserFactory(username="bob")
    no_masters = "course-v1:UNI+NOM+2025"  # linking would refuse it; granting roles does not
    CourseModeFactory(course_key=no_masters, mode_slug="audit")
    pe = enrolled("EXT-1", courses=(C1, no_masters), user=bob)  # no course enrollment attached
    for pce in pe.program_course_enrollments.all():
        CourseAccessRoleAssignmentFactory(enrollment=pce, role="staff")

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result)["status"] == "linked" and result.changed is True
    assert row(result)["message"] == (
        f"Already linked to bob; waiting role(s) granted: staff in {C1}, staff in {no_masters}."
    )
    roles = set(CourseAccessRole.objects.filter(user=bob).values_list("course_key", "role", "org"))
    assert roles == {(C1, "staff", "UNI"), (no_masters, "staff", "UNI")}
    assert not CourseAccessRoleAssignment.objects.exists()
    assert not CourseEnrollment.objects.exists()  # course enrollments are left as they are
    assert {c["after"][1] for c in SupportAction.objects.get().changes} == {C1, no_masters}

    again = link([("EXT-1", "bob")], system_actor)
    assert row(again)["status"] == "unchanged" and again.changed is False


def test_granting_roles_to_an_already_linked_learner_dry_run_writes_nothing(support_actor):
    bob = UserFactory(username="bob")
    pe = enrolled("EXT-1", courses=(C1,), user=bob)
    CourseAccessRoleAssignmentFactory(enrollment=pe.program_course_enrollments.get())

    dry = link([("EXT-1", "bob")], support_actor, dry_run=True)

    assert row(dry)["status"] == "linked" and dry.changed is True
    assert CourseAccessRoleAssignment.objects.count() == 1
    assert not CourseAccessRole.objects.exists()


def test_roles_waiting_on_the_linked_curriculum_are_granted_when_another_is_linked(system_actor):
    bob = UserFactory(username="bob")
    linked_pe = enrolled("EXT-1", courses=(C1,), user=bob)
    CourseAccessRoleAssignmentFactory(enrollment=linked_pe.program_course_enrollments.get())
    other = enrolled("EXT-1", courses=(C2,), curriculum_uuid=uuid.uuid4())

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result)["message"] == (
        f"Linked to bob; masters course enrollments: 1 created; waiting role(s) granted: "
        f"staff in {C1}."
    )
    other.refresh_from_db()
    assert other.user == bob
    assert CourseAccessRole.objects.filter(user=bob, course_key=C1).exists()
    assert not CourseEnrollment.objects.filter(course_key=C1).exists()


# --- Row errors ---------------------------------------------------------------------------


def test_row_errors_skip_the_row_and_the_rest_proceeds(system_actor):
    UserFactory(username="bob")
    UserFactory(username="ann")
    enrolled("EXT-1")
    other_program = uuid.uuid4()
    enrolled("EXT-OTHER", program_uuid=other_program)
    ok = enrolled("EXT-OK")

    result = link(
        [
            ("EXT-1", "nobody"),
            ("EXT-1", "Bob"),
            ("EXT-OTHER", "bob"),
            ("", "bob"),
            ("EXT-2", " "),
            ("EXT-OK", "ann"),
        ],
        system_actor,
    )

    messages = [r["message"] for r in result.as_dict()["results"]]
    assert messages[0] == DUPLICATE_KEY.format(key="EXT-1", count=2)
    assert messages[1] == DUPLICATE_KEY.format(key="EXT-1", count=2)
    assert messages[2] == NO_PROGRAM_ENROLLMENT.format(key="EXT-OTHER")
    assert messages[3] == MALFORMED_ROW
    assert messages[4] == MALFORMED_ROW
    assert row(result, 5)["status"] == "linked"
    ok.refresh_from_db()
    assert ok.user.username == "ann"
    assert result.counts == {"linked": 1, "relinked": 0, "unchanged": 0, "error": 5}


def test_unknown_user_and_a_differently_cased_username(system_actor):
    UserFactory(username="bob")
    enrolled("EXT-1")
    enrolled("EXT-2")

    result = link([("EXT-1", "nobody"), ("EXT-2", "BOB")], system_actor)

    assert row(result)["message"] == USER_NOT_FOUND.format(username="nobody")
    assert row(result, 1)["message"] == USERNAME_CASE.format(username="BOB", suggestions="'bob'")
    assert not ProgramEnrollment.objects.filter(user__isnull=False).exists()


def test_duplicate_keys_case_insensitively_link_none_of_them(system_actor):
    UserFactory(username="bob")
    UserFactory(username="ann")
    pe = enrolled("EXT-1")

    result = link([("ext-1", "bob"), ("EXT-1", "ann"), ("EXT-1", "ann")], system_actor)

    assert [r["status"] for r in result.as_dict()["results"]] == ["error"] * 3
    assert row(result)["message"] == DUPLICATE_KEY.format(key="ext-1", count=3)
    pe.refresh_from_db()
    assert pe.user is None


def test_one_username_for_several_keys_links_none_of_them(system_actor):
    UserFactory(username="bob")
    enrolled("EXT-1")
    enrolled("EXT-2")

    result = link([("EXT-1", "bob"), ("EXT-2", "bob")], system_actor)

    assert row(result)["message"] == DUPLICATE_USERNAME.format(username="bob", count=2)
    assert row(result, 1)["status"] == "error"
    assert not ProgramEnrollment.objects.filter(user__isnull=False).exists()


def test_user_already_enrolled_under_another_key(system_actor):
    bob = UserFactory(username="bob")
    enrolled("EXT-OLD", user=bob)
    pe = enrolled("EXT-NEW")

    result = link([("EXT-NEW", "bob")], system_actor)

    assert row(result)["message"] == ALREADY_ENROLLED.format(username="bob", other="EXT-OLD")
    pe.refresh_from_db()
    assert pe.user is None


def test_a_key_in_another_curriculum_of_the_program_is_linked_too(system_actor):
    bob = UserFactory(username="bob")
    first = enrolled("EXT-1")
    second = enrolled("EXT-1", curriculum_uuid=uuid.uuid4(), courses=(C3,))

    result = link([("EXT-1", "bob")], system_actor)

    assert row(result)["status"] == "linked"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.user == second.user == bob
    assert CourseEnrollment.objects.filter(user=bob).count() == 3


# --- Atomicity per learner ----------------------------------------------------------------


def _hide_course_enrollment_of(monkeypatch, username):
    """A concurrent writer: the read does not see one existing course enrollment, so the
    write of that learner collides with the real unique constraint (user, course_key)."""
    real = linking.read_courses
    user_id = UserFactory._meta.model.objects.get(username=username).pk

    def stale(**kwargs):
        snap = real(**kwargs)
        for key in [k for k, e in snap.enrollments.items() if e.user_id == user_id]:
            del snap.enrollments[key]
        return snap

    monkeypatch.setattr(linking, "read_courses", stale)


def test_a_failing_learner_rolls_back_alone(monkeypatch, system_actor, caplog):
    users = [UserFactory(username=name) for name in ("ann", "bob", "carol", "dan")]
    CourseEnrollmentFactory(user=users[2], course_key=C1, mode="honor", is_active=False)
    carols = enrolled("EXT-C", courses=(C1, C2))
    CourseAccessRoleAssignmentFactory(enrollment=carols.program_course_enrollments.first())
    for user in users:
        if user.username != "carol":
            enrolled(f"EXT-{user.username[0].upper()}", courses=(C1, C2))
    _hide_course_enrollment_of(monkeypatch, "carol")

    result = link(
        [("EXT-A", "ann"), ("EXT-B", "bob"), ("EXT-C", "carol"), ("EXT-D", "dan")], system_actor
    )

    statuses = [r["status"] for r in result.as_dict()["results"]]
    assert statuses == ["linked", "linked", "error", "linked"]
    message = row(result, 2)["message"]
    assert message == LINK_FAILED.format(key="EXT-C", username="carol")
    assert "UNIQUE" not in message.upper() and "duplicate" not in message.lower()
    carols.refresh_from_db()
    assert carols.user is None
    assert [
        (e.mode, e.is_active) for e in CourseEnrollment.objects.filter(user__username="carol")
    ] == [("honor", False)]
    assert CourseAccessRoleAssignment.objects.filter(enrollment__program_enrollment=carols).exists()
    assert not CourseAccessRole.objects.exists()
    for name in ("ann", "bob", "dan"):
        assert ProgramEnrollment.objects.get(user__username=name)
        assert CourseEnrollment.objects.filter(user__username=name, mode="masters").count() == 2
    audit = SupportAction.objects.get()
    assert audit.outcome == "changed"
    assert len([c for c in audit.changes if c["field"] == "user"]) == 3
    assert "carol" not in str(audit.changes)


# --- Dry run and permissions --------------------------------------------------------------


def test_dry_run_gives_the_same_results_and_writes_nothing(support_actor):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    pe = enrolled("EXT-1", user=alice)
    CourseAccessRoleAssignmentFactory(enrollment=pe.program_course_enrollments.first())
    enrolled("EXT-2")
    UserFactory(username="carl")
    sheet = [("EXT-1", "bob"), ("EXT-2", "carl"), ("EXT-3", "dora")]

    dry = link(sheet, support_actor, dry_run=True)

    assert dry.as_dict()["dry_run"] is True and dry.changed is True
    pe.refresh_from_db()
    assert pe.user == alice
    assert not CourseEnrollment.objects.exists()
    assert CourseAccessRoleAssignment.objects.count() == 1
    audit = SupportAction.objects.get()
    assert audit.dry_run and audit.outcome == "changed"

    real = link(sheet, support_actor)
    # The same outcome row by row; the dry run's sentences say "would", the real run's say done.
    assert [(r.external_user_key, r.username, r.status) for r in real.rows] == [
        (r.external_user_key, r.username, r.status) for r in dry.rows
    ]
    assert [r.message for r in dry.rows] == [
        "Would relink from alice to bob; masters course enrollments: 2 would be created; "
        "waiting role(s) to grant: staff in course-v1:UNI+C1+2025.",
        "Would link to carl; masters course enrollments: 2 would be created.",
        real.rows[2].message,
    ]
    assert real.rows[0].message == (
        "Relinked from alice to bob; masters course enrollments: 2 created; "
        "waiting role(s) granted: staff in course-v1:UNI+C1+2025."
    )
    assert real.rows[1].message == "Linked to carl; masters course enrollments: 2 created."
    assert CourseEnrollment.objects.filter(user=bob).count() == 2


def test_a_viewer_may_dry_run_but_not_link(viewer_user):
    UserFactory(username="bob")
    pe = enrolled("EXT-1")
    viewer = Actor.for_user(viewer_user, door="api")

    assert link([("EXT-1", "bob")], viewer, dry_run=True).changed is True
    with pytest.raises(SupportError) as refused:
        link([("EXT-1", "bob")], viewer)

    assert refused.value.kind == ErrorKind.PERMISSION
    assert refused.value.message == PERMISSION_DENIED.format(action="link_program_enrollments")
    pe.refresh_from_db()
    assert pe.user is None
    assert SupportAction.objects.filter(outcome="failed").count() == 1


def test_bad_calls_are_refused_as_a_whole(system_actor):
    enrolled("EXT-1")
    with pytest.raises(SupportError) as bad_uuid:
        link_program_enrollments(program_uuid="nope", pairs=[("a", "b")], actor=system_actor)
    assert bad_uuid.value.message == BAD_PROGRAM_UUID.format(value="nope")
    with pytest.raises(SupportError) as empty:
        link([], system_actor)
    assert empty.value.message == NO_ROWS
    missing = uuid.uuid4()
    with pytest.raises(SupportError) as not_found:
        link_program_enrollments(program_uuid=missing, pairs=[("a", "b")], actor=system_actor)
    assert not_found.value.kind == ErrorKind.NOT_FOUND
    assert not_found.value.message == PROGRAM_NOT_FOUND.format(program=missing)


def test_malformed_pairs_from_json_are_row_errors(system_actor):
    enrolled("EXT-1")
    result = link([("EXT-1",), None, ("EXT-1", 5)], system_actor)
    assert [r["message"] for r in result.as_dict()["results"]] == [MALFORMED_ROW] * 3


# --- Batches and the number of queries ----------------------------------------------------


def _cohort(prefix, n):
    """n learners in the shapes that cost queries: new, relinked, existing enrollment, role."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}") for i in range(n)]
        + [User(username=f"{prefix}old{i}") for i in range(n)]
    )
    new, old = users[:n], users[n:]
    pes = ProgramEnrollment.objects.bulk_create(
        [
            ProgramEnrollment(
                external_user_key=f"{prefix}-{i}",
                program_uuid=PROGRAM,
                curriculum_uuid=CURRICULUM,
                user=old[i] if i % 4 == 1 else None,
            )
            for i in range(n)
        ]
    )
    old_ces = CourseEnrollment.objects.bulk_create(
        [
            CourseEnrollment(user=old[i], course_key=c, mode="masters")
            for i in range(n)
            if i % 4 == 1
            for c in (C1, C2, C3)
        ]
    )
    old_ce = {(e.user_id, e.course_key): e for e in old_ces}
    CourseEnrollment.objects.bulk_create(
        [CourseEnrollment(user=new[i], course_key=C2, mode="audit") for i in range(n) if i % 4 == 2]
    )
    pces = ProgramCourseEnrollment.objects.bulk_create(
        [
            ProgramCourseEnrollment(
                program_enrollment=pe, course_key=c, course_enrollment=old_ce.get((pe.user_id, c))
            )
            for pe in pes
            for c in (C1, C2, C3)
        ]
    )
    CourseAccessRoleAssignment.objects.bulk_create(
        [CourseAccessRoleAssignment(enrollment=p) for j, p in enumerate(pces) if j % 12 == 9]
    )
    return [(f"{prefix}-{i}", f"{prefix}{i}") for i in range(n)]


def _queries(pairs, actor):
    with CaptureQueriesContext(connection) as ctx:
        result = link(pairs, actor)
    assert result.counts["error"] == 0
    # The trail's index of learners is one bulk INSERT per step, which SQLite splits every
    # 249 rows (999 parameters): bounded by the step, see the test after this one.
    return len([q for q in ctx.captured_queries if "supportactionlearner" not in q["sql"]])


def test_the_number_of_queries_does_not_grow_with_the_learners(system_actor):
    small = _cohort("s", 10)
    large = _cohort("l", 200)
    assert linking.BATCH_SIZE >= 200

    assert _queries(small, system_actor) == _queries(large, system_actor)
    assert CourseAccessRole.objects.count() == 10 // 4 + 200 // 4
    assert not CourseAccessRoleAssignment.objects.exists()


def test_learners_beyond_one_batch_all_link_and_progress_is_reported(monkeypatch, system_actor):
    monkeypatch.setattr(linking, "BATCH_SIZE", 3)
    pairs = _cohort("b", 8)
    seen = []

    result = link_program_enrollments(
        program_uuid=str(PROGRAM),
        pairs=pairs,
        actor=system_actor,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert result.counts == {"linked": 6, "relinked": 2, "unchanged": 0, "error": 0}
    assert seen == [(3, 8), (6, 8), (8, 8)]
    assert ProgramEnrollment.objects.filter(user__username__startswith="b").count() == 8
    assert CourseEnrollment.objects.filter(mode="masters", is_active=True).count() == 24


def test_audit_keeps_the_before_and_after_of_each_course_enrollment(system_actor):
    from support_tools.models import SupportAction

    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    old = CourseEnrollmentFactory(user=alice, course_key=C3, mode="masters", is_active=True)
    existing = CourseEnrollmentFactory(user=bob, course_key=C3, mode="audit", is_active=False)
    pe = enrolled("EXT-1", courses=(C3,), user=alice)
    pce = pe.program_course_enrollments.get()
    pce.course_enrollment = old
    pce.save()

    link([("EXT-1", "bob")], system_actor)

    changes = SupportAction.objects.get().changes
    moves = {
        c["object"]: (c["before"], c["after"])
        for c in changes
        if c.get("field") == "mode, is_active"
    }
    assert moves == {
        f"enrollments.CourseEnrollment#{old.pk}": (["masters", True], ["audit", False]),
        f"enrollments.CourseEnrollment#{existing.pk}": (["audit", False], ["masters", True]),
    }
