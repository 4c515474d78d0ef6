"""Benchmark: link_program_enrollments against the classic per-learner loop, same data, one run.

    SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/link_program_enrollments.py [--learners N]

Runs on a database of its own: a temporary SQLite file, or, when DATABASE_URL names a
PostgreSQL server, a fresh database created on it (and dropped at the end). It builds a program
of N learners with 3 program course enrollments each (about 10% already linked to another user,
5% with a waiting staff role, 10% with an audit enrollment of their own in a course), then links
all of them once with our service and once with the loop, each inside a transaction rolled back
afterwards, and compares wall time, query count and the end state both leave.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COURSES = [f"course-v1:BENCH+C{n}+2025" for n in (1, 2, 3)]
PROGRAM = uuid.UUID("b0000000-0000-4000-8000-000000000001")
CURRICULUM = uuid.UUID("c0000000-0000-4000-8000-000000000001")


# --- A database of its own -----------------------------------------------------------------


def own_database() -> tuple[str, Callable[[], None]]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = f"bench_link_{os.getpid()}"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return f"PostgreSQL (database {name})", drop
    tmp = tempfile.mkdtemp(prefix="bench-link-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    return "SQLite (temporary file)", lambda: shutil.rmtree(tmp, ignore_errors=True)


# --- The data ------------------------------------------------------------------------------


def build(n: int) -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model

    from enrollments.models import (
        CourseAccessRoleAssignment,
        CourseEnrollment,
        CourseMode,
        ProgramCourseEnrollment,
        ProgramEnrollment,
    )

    User = get_user_model()
    CourseMode.objects.bulk_create(
        [CourseMode(course_key=c, mode_slug=m) for c in COURSES for m in ("audit", "masters")]
        + [CourseMode(course_key=COURSES[2], mode_slug="verified")]
    )
    learners = User.objects.bulk_create(
        [User(username=f"learner{i:06d}", password="!") for i in range(n)], batch_size=2000
    )
    relinked = [i for i in range(n) if i % 10 == 0]
    previous = dict(
        zip(
            relinked,
            User.objects.bulk_create(
                [User(username=f"previous{i:06d}", password="!") for i in relinked],
                batch_size=2000,
            ),
            strict=True,
        )
    )
    pes = ProgramEnrollment.objects.bulk_create(
        [
            ProgramEnrollment(
                external_user_key=f"UNI-{i:06d}",
                program_uuid=PROGRAM,
                curriculum_uuid=CURRICULUM,
                status="enrolled",
                user=previous.get(i),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    old = CourseEnrollment.objects.bulk_create(
        [
            CourseEnrollment(user=u, course_key=c, mode="masters")
            for u in previous.values()
            for c in COURSES
        ],
        batch_size=2000,
    )
    old_of = {(e.user_id, e.course_key): e for e in old}
    CourseEnrollment.objects.bulk_create(
        [
            CourseEnrollment(user=learners[i], course_key=COURSES[0], mode="audit", is_active=False)
            for i in range(n)
            if i % 10 == 3
        ]
        + [
            CourseEnrollment(user=learners[i], course_key=COURSES[2], mode="verified")
            for i in range(n)
            if i % 50 == 7
        ],
        batch_size=2000,
    )
    pces = ProgramCourseEnrollment.objects.bulk_create(
        [
            ProgramCourseEnrollment(
                program_enrollment=pe,
                course_key=c,
                course_enrollment=old_of.get((pe.user_id, c)),
                status="inactive" if (i % 20 == 11 and c == COURSES[2]) else "active",
            )
            for i, pe in enumerate(pes)
            for c in COURSES
        ],
        batch_size=2000,
    )
    CourseAccessRoleAssignment.objects.bulk_create(
        [
            CourseAccessRoleAssignment(enrollment=pces[3 * i], role="staff")
            for i in range(n)
            if i % 20 == 5
        ],
        batch_size=2000,
    )
    # Half of the sheet spells the keys in another case: matching is case-insensitive.
    return [((f"UNI-{i:06d}" if i % 2 else f"uni-{i:06d}"), f"learner{i:06d}") for i in range(n)]


# --- The classic per-learner loop (what the service replaces) ------------------------------


def naive_link(program_uuid: uuid.UUID, pairs: list[tuple[str, str]]) -> list[str]:
    """One transaction; per learner a savepoint, look-ups and saves per learner and course."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models.functions import Lower

    from enrollments.models import (
        CourseAccessRole,
        CourseEnrollment,
        CourseMode,
        ProgramEnrollment,
        course_org,
    )

    User = get_user_model()

    class RowError(Exception):
        pass

    def link_one(key: str, username: str) -> str:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise RowError("no such user")
        # The same functional index as the service's look-up: the loop is slow by its
        # round trips, not by a missing index.
        pes = list(
            ProgramEnrollment.objects.annotate(key_ci=Lower("external_user_key"))
            .filter(program_uuid=program_uuid, key_ci=key.lower())
            .select_related("user")
        )
        if not pes:
            raise RowError("no program enrollment")
        status = "unchanged"
        for pe in pes:
            if pe.user_id == user.pk:
                continue
            if (
                ProgramEnrollment.objects.filter(
                    program_uuid=program_uuid, curriculum_uuid=pe.curriculum_uuid, user=user
                )
                .exclude(pk=pe.pk)
                .exists()
            ):
                raise RowError("already enrolled under another key")
            pces = list(pe.program_course_enrollments.all())
            for pce in pces:
                if not CourseMode.objects.filter(
                    course_key=pce.course_key, mode_slug="masters"
                ).exists():
                    raise RowError("no masters mode")
            status = "linked"
            if pe.user_id is not None:
                status = "relinked"
                for pce in pces:
                    if pce.course_enrollment_id is None:
                        continue
                    old = CourseEnrollment.objects.get(pk=pce.course_enrollment_id)
                    old.is_active = False
                    if CourseMode.objects.filter(
                        course_key=old.course_key, mode_slug="audit"
                    ).exists():
                        old.mode = "audit"
                    old.save()
                    pce.course_enrollment = None
                    pce.save()
            pe.user = user
            pe.save()
            for pce in pces:
                active = pce.status == "active"
                enrollment, created = CourseEnrollment.objects.get_or_create(
                    user=user,
                    course_key=pce.course_key,
                    defaults={"mode": "masters", "is_active": active},
                )
                if not created:
                    if enrollment.mode in ("audit", "honor"):
                        enrollment.mode = "masters"
                    enrollment.is_active = active
                    enrollment.save()
                pce.course_enrollment = enrollment
                pce.save()
                for assignment in pce.role_assignments.all():
                    CourseAccessRole.objects.get_or_create(
                        user=user,
                        course_key=pce.course_key,
                        role=assignment.role,
                        org=course_org(pce.course_key),
                    )
                    assignment.delete()
        return status

    statuses = []
    with transaction.atomic():
        for key, username in pairs:
            try:
                with transaction.atomic():
                    statuses.append(link_one(key, username))
            except RowError:
                statuses.append("error")
    return statuses


# --- Measuring -----------------------------------------------------------------------------


class Rollback(Exception):
    pass


def measure(run: Callable[[], list[str]]) -> tuple[float, int, list[str], str]:
    """Wall time and queries of `run`, then the end state it left, then roll it all back."""
    from django.db import connection, transaction

    count = 0

    def counter(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    measured: tuple[float, int, list[str], str] | None = None
    try:
        with transaction.atomic():
            with connection.execute_wrapper(counter):
                start = time.perf_counter()
                statuses = run()
                elapsed = time.perf_counter() - start
            measured = (elapsed, count, statuses, fingerprint())
            raise Rollback
    except Rollback:
        pass
    assert measured is not None
    return measured


def fingerprint() -> str:
    from enrollments.models import (
        CourseAccessRole,
        CourseAccessRoleAssignment,
        CourseEnrollment,
        ProgramCourseEnrollment,
        ProgramEnrollment,
    )

    state = [
        sorted(ProgramEnrollment.objects.values_list("pk", "user_id")),
        sorted(CourseEnrollment.objects.values_list("user_id", "course_key", "mode", "is_active")),
        sorted(
            ProgramCourseEnrollment.objects.values_list(
                "pk", "course_enrollment__user_id", "course_enrollment__course_key"
            ),
            key=str,
        ),
        sorted(CourseAccessRole.objects.values_list("user_id", "course_key", "role", "org")),
        CourseAccessRoleAssignment.objects.count(),
    ]
    return hashlib.sha256(repr(state).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    args = parser.parse_args()

    os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    label, cleanup = own_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from enrollments.linking.service import link_program_enrollments
        from support_tools.actors import Actor

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        pairs = build(args.learners)
        print(
            f"{label}: {args.learners} learners x {len(COURSES)} courses built in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        fingerprint()  # warm the caches alike for both runs

        def ours() -> list[str]:
            result = link_program_enrollments(
                program_uuid=PROGRAM, pairs=pairs, actor=Actor.system("bench")
            )
            return [row.status for row in result.rows]

        fast = measure(ours)
        slow = measure(lambda: naive_link(PROGRAM, pairs))
    finally:
        cleanup()

    n = args.learners
    print(f"link_program_enrollments benchmark on {label}")
    print(
        f"{n} learners x {len(COURSES)} program course enrollments; "
        f"{len(range(0, n, 10))} already linked to another user, "
        f"{len(range(5, n, 20))} with a waiting staff role"
    )
    print(f"{'implementation':<28}{'wall time':>12}{'queries':>12}")
    print(f"{'our service (batched)':<28}{fast[0]:>10.2f} s{fast[1]:>12,}")
    print(f"{'per-learner loop':<28}{slow[0]:>10.2f} s{slow[1]:>12,}")
    print(
        f"ours is {slow[0] / fast[0]:.1f}x faster with {slow[1] / fast[1]:.0f}x fewer queries; "
        f"statuses {dict(sorted(_count(fast[2]).items()))}; "
        f"same statuses: {'yes' if fast[2] == slow[2] else 'NO'}; "
        f"same end state: {'yes' if fast[3] == slow[3] else 'NO'}"
    )
    if fast[2] != slow[2] or fast[3] != slow[3]:
        sys.exit(1)


def _count(statuses: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return out


if __name__ == "__main__":
    main()
