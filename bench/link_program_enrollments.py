"""Benchmark: link_program_enrollments against the classic per-learner loop, same data.

    SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/link_program_enrollments.py \\
        [--learners 10000 100000] [--loop-sample 10000]

Runs on databases of its own: temporary SQLite files, or, when DATABASE_URL names a PostgreSQL
server, databases created on it (and dropped at the end). For each size N it builds, in a
subprocess (so that this process's peak memory is the linking's), a program of N learners with
3 program course enrollments each (10% already linked to another user, 5% with a waiting staff
role, 10% with an audit enrollment of their own in a course), analyzes it as autovacuum would a
live database, then links the whole sheet with our service in a fresh copy, committed step by
step as a real run is. The per-learner loop links the first --loop-sample rows in another copy
(its time is extrapolated linearly to N, as its cost per learner is constant), and our service
links the same rows in a third copy: both must leave the same statuses and the same end state.
Printed: wall time, queries (and per batch), the process's peak memory (resident set), the
speed-up, and a scaling line between the sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
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


# --- Databases of its own: a base per size, copied for each run -----------------------------


class Databases:
    """PostgreSQL: databases on DATABASE_URL's server (copies by CREATE DATABASE ... TEMPLATE);
    otherwise SQLite files in a temporary directory (copies of the file)."""

    def __init__(self) -> None:
        url = os.environ.get("DATABASE_URL", "")
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        self.prefix = f"bench_link_{os.getpid()}"
        self.made: list[str] = []
        if self.postgres:
            self.parts = urlsplit(url)
            self.admin_url = urlunsplit(self.parts._replace(path="/postgres"))
        else:
            self.tmp = tempfile.mkdtemp(prefix="bench-link-")
        os.environ["DATABASE_URL"] = self.url(self.name("setup"))
        if self.postgres:
            self._sql(f'CREATE DATABASE "{self.name("setup")}"')
            self.made.append(self.name("setup"))

    def name(self, label: str) -> str:
        return f"{self.prefix}_{label}" if self.postgres else f"{self.tmp}/{label}.sqlite3"

    def url(self, name: str) -> str:
        if self.postgres:
            return urlunsplit(self.parts._replace(path=f"/{name}"))
        return f"sqlite:///{name}"

    def label(self) -> str:
        if not self.postgres:
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version} (temporary files)"
        import psycopg

        with psycopg.connect(self.admin_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {version.split()[0]}"

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def build(self, n: int) -> str:
        """A base database of n learners, built by a subprocess of this script."""
        base = self.name(f"base{n}")
        if self.postgres:
            self._sql(f'CREATE DATABASE "{base}"')
            self.made.append(base)
        env = {**os.environ, "DATABASE_URL": self.url(base)}
        subprocess.run([sys.executable, __file__, "--build", str(n)], env=env, check=True)
        return base

    def copy(self, base: str, label: str) -> str:
        """A fresh copy of `base`, which Django's connection then uses."""
        from django.db import connections

        connections.close_all()
        copy = self.name(label)
        if self.postgres:
            self._sql(f'CREATE DATABASE "{copy}" TEMPLATE "{base}"')
            self.made.append(copy)
        else:
            shutil.copyfile(base, copy)
        connections["default"].settings_dict["NAME"] = copy
        return copy

    def drop(self, name: str) -> None:
        from django.db import connections

        connections.close_all()
        if self.postgres:
            self._sql(f'DROP DATABASE IF EXISTS "{name}"')
            self.made.remove(name)
        else:
            Path(name).unlink(missing_ok=True)

    def cleanup(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.postgres:
            for name in list(self.made):
                self._sql(f'DROP DATABASE IF EXISTS "{name}"')
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


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
    return sheet(n)


def sheet(n: int) -> list[tuple[str, str]]:
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


def counted(run: Callable[[], list[str]]) -> tuple[float, int, list[str]]:
    """Wall time and queries of `run` (on every connection: steps may run on threads of their
    own), and the statuses it returns."""
    import threading

    from django.db import connection
    from django.db.backends.signals import connection_created

    count, lock = [0], threading.Lock()

    def counter(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        with lock:
            count[0] += 1
        return execute(sql, params, many, context)

    def on_connect(sender, connection, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if counter not in connection.execute_wrappers:  # this thread's has it already
            connection.execute_wrappers.append(counter)

    connection_created.connect(on_connect)
    try:
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            statuses = run()
            elapsed = time.perf_counter() - start
    finally:
        connection_created.disconnect(on_connect)
    return elapsed, count[0], statuses


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


def ours(pairs: list[tuple[str, str]]) -> list[str]:
    from enrollments.linking.service import link_program_enrollments
    from support_tools.actors import Actor

    result = link_program_enrollments(
        program_uuid=PROGRAM, pairs=pairs, actor=Actor.system("bench")
    )
    return [row.status for row in result.rows]


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_size(dbs: Databases, n: int, sample: int) -> dict:
    from enrollments.linking.service import BATCH_SIZE

    started = time.perf_counter()
    base = dbs.build(n)
    print(f"{n:,} learners built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    pairs = sheet(n)
    out: dict = {"n": n}

    dbs.copy(base, f"ours{n}")
    out["time"], out["queries"], statuses = counted(lambda: ours(pairs))
    out["memory"] = peak_memory_mb()
    out["statuses"] = _count(statuses)
    out["batches"] = -(-n // BATCH_SIZE)
    same_run = sample >= n
    if same_run:
        out["ours_sample"] = (statuses, fingerprint())
    dbs.drop(dbs.name(f"ours{n}"))

    if sample:
        rows = pairs[: min(sample, n)]
        if not same_run:
            dbs.copy(base, f"sample{n}")
            _, _, statuses = counted(lambda: ours(rows))
            out["ours_sample"] = (statuses, fingerprint())
            dbs.drop(dbs.name(f"sample{n}"))
        dbs.copy(base, f"loop{n}")
        loop_time, loop_queries, statuses = counted(lambda: naive_link(PROGRAM, rows))
        out["loop_sample"] = (statuses, fingerprint())
        dbs.drop(dbs.name(f"loop{n}"))
        scale = n / len(rows)
        out["loop_rows"] = len(rows)
        out["loop_time"], out["loop_queries"] = loop_time * scale, round(loop_queries * scale)
    dbs.drop(base)
    return out


def report(label: str, results: list[dict]) -> bool:
    print(f"link_program_enrollments benchmark on {label}")
    ok = True
    for r in results:
        n = r["n"]
        print(
            f"\n{n:,} learners x {len(COURSES)} program course enrollments; "
            f"{len(range(0, n, 10)):,} already linked to another user, "
            f"{len(range(5, n, 20)):,} with a waiting staff role"
        )
        per_batch = r["queries"] / r["batches"]
        print(
            f"  our service (batched)  {r['time']:>8.2f} s {r['queries']:>11,} queries "
            f"({per_batch:.1f} per batch of {n // r['batches']:,})  peak memory "
            f"{r['memory']:,.0f} MB (resident, whole process)"
        )
        print(f"  statuses {r['statuses']}")
        if "loop_time" not in r:
            continue
        extrapolated = r["loop_rows"] < n
        star = "*" if extrapolated else ""
        print(
            f"  per-learner loop       {r['loop_time']:>8.2f} s{star}{r['loop_queries']:>10,} "
            f"queries{star}"
        )
        if extrapolated:
            print(
                f"  * timed on the first {r['loop_rows']:,} rows and extrapolated linearly "
                f"(x{n / r['loop_rows']:g})"
            )
        same_statuses = r["ours_sample"][0] == r["loop_sample"][0]
        same_state = r["ours_sample"][1] == r["loop_sample"][1]
        ok = ok and same_statuses and same_state
        print(
            f"  ours is {r['loop_time'] / r['time']:.1f}x faster with "
            f"{r['loop_queries'] / r['queries']:.0f}x fewer queries; on the loop's rows: same "
            f"statuses {'yes' if same_statuses else 'NO'}, "
            f"same end state {'yes' if same_state else 'NO'}"
        )
    for small, large in zip(results, results[1:], strict=False):
        print(
            f"\nscaling: {large['n']:,} learners took {large['time'] / small['time']:.1f}x the "
            f"time of {small['n']:,} ({large['n'] / small['n']:g}x the learners); queries "
            f"{large['queries'] / small['queries']:.1f}x"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[10_000])
    parser.add_argument(
        "--loop-sample",
        type=int,
        default=10_000,
        help="Rows the per-learner loop links (its time is extrapolated); 0: no loop.",
    )
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()

    os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    if args.build is not None:
        _build_base(args.build)
        return
    dbs = Databases()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # warms the imports, as a server would be
        label = dbs.label()
        results = [run_size(dbs, n, args.loop_sample) for n in sorted(args.learners)]
    finally:
        dbs.cleanup()
    if not report(label, results):
        sys.exit(1)


def _build_base(n: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    build(n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()


def _count(statuses: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return dict(sorted(out.items()))


if __name__ == "__main__":
    main()
