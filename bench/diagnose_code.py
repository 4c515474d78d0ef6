"""Benchmark of diagnose_code on 1,000,000 enrollment codes over 1,000 contracts.

    SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/diagnose_code.py            # SQLite
    DATABASE_URL=postgres://... SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/diagnose_code.py

It builds its own database (a temporary SQLite file, or a fresh database created on the
PostgreSQL server of DATABASE_URL and dropped at the end), migrates it, fills it, then times
diagnose_code end to end (audit row included) for found codes, typos and garbage, printing
median, 95th percentile and the number of queries per call. Options: --codes, --samples, --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")

HEX = "0123456789abcdef"
CONTRACTS = 1_000
ORGS = 100
USERS = 2_000
REDEMPTIONS = 20_000
BATCH = 50_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="Calls timed per case.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    cleanup = _own_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        print(f"database: {_describe()}", flush=True)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        codes = _fill(args.codes)
        print(f"filled {args.codes:,} codes in {time.perf_counter() - started:.1f} s", flush=True)
        os.sync()  # the load's dirty pages reach the disk now, not during the timed commits
        _run_cases(codes, args.samples)
    finally:
        if not args.keep:
            cleanup()


# --- the database -------------------------------------------------------------------------------


def _own_database():
    """Point DATABASE_URL at a database of our own; return the function that removes it."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, _ = url.rpartition("/")
        name = f"bench_codes_{os.getpid()}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

        return drop
    folder = tempfile.mkdtemp(prefix="bench-codes-")
    path = Path(folder) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"

    def remove() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        Path(folder).rmdir()

    return remove


def _describe() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({connection.settings_dict['NAME']})"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version} (database {connection.settings_dict['NAME']})"


def _fill(count: int) -> list[str]:
    """Organizations, contracts, users, then the codes in big raw batches (COPY on PostgreSQL);
    the segment columns are computed by the database itself."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from orgs.models import CodeRedemption, Contract, EnrollmentCode, Organization

    rng = random.Random(20_251_123)
    now = timezone.now()
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Org {i}", short_name=f"org{i}") for i in range(ORGS)
    )
    contracts = Contract.objects.bulk_create(
        Contract(
            organization=orgs[i % ORGS],
            name=f"Contract {i}",
            start=now - dt.timedelta(days=rng.randrange(1, 400)),
            end=now + dt.timedelta(days=rng.randrange(-30, 400)),
            active=rng.random() > 0.05,
            max_learners=rng.choice([None, 0, 50, 500, 5000]),
        )
        for i in range(CONTRACTS)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{i}", email=f"bench{i}@example.com") for i in range(USERS)
    )
    Through = Contract.learners.through
    Through.objects.bulk_create(
        Through(contract_id=contracts[i % CONTRACTS].pk, user_id=users[i].pk) for i in range(USERS)
    )

    codes = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]
    windows = {c.pk: (c.start, c.end) for c in contracts}
    contract_ids = [c.pk for c in contracts]
    columns = "code, contract_id, activation_date, expiration_date, redemption_type"

    def rows(start: int, stop: int):
        for i in range(start, stop):
            contract_id = contract_ids[i % CONTRACTS]
            begin, end = windows[contract_id]
            if i % 50 == 0:  # a few codes whose dates drifted from their contract's
                end = end + dt.timedelta(days=7)
            kind = "one-time" if i % 10 else "unlimited"
            yield (codes[i], contract_id, begin, end, kind)

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY orgs_enrollmentcode ({columns}) FROM STDIN") as copy:
                for row in rows(0, count):
                    copy.write_row(row)
        else:
            cursor.execute("PRAGMA cache_size = -400000")
            for start in range(0, count, BATCH):
                cursor.executemany(
                    f"INSERT INTO orgs_enrollmentcode ({columns}) VALUES (%s, %s, %s, %s, %s)",
                    list(rows(start, min(count, start + BATCH))),
                )
    code_ids = dict(
        EnrollmentCode.objects.filter(code__in=codes[: REDEMPTIONS * 2 : 2]).values_list(
            "code", "pk"
        )
    )
    CodeRedemption.objects.bulk_create(
        (
            CodeRedemption(
                code_id=code_ids[code],
                user_id=users[i % USERS].pk,
                redeemed_on=now - dt.timedelta(hours=i),
            )
            for i, code in enumerate(codes[: REDEMPTIONS * 2 : 2])
        ),
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return codes


# --- the cases ----------------------------------------------------------------------------------


def _edit(text: str, rng: random.Random, kind: str) -> str:
    digits = [i for i, c in enumerate(text) if c != "-"]
    i = rng.choice(digits[:-1])
    if kind == "substitute":
        return text[:i] + rng.choice(HEX.replace(text[i], "")) + text[i + 1 :]
    if kind == "insert":
        return text[:i] + rng.choice(HEX) + text[i:]
    if kind == "delete":
        return text[:i] + text[i + 1 :]
    j = i + 1 if text[i + 1] != "-" else i + 2  # swap with the next digit
    if text[i] == text[j]:
        return _edit(text, rng, "substitute")
    return text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :]


def _run_cases(codes: list[str], samples: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orgs.codes import diagnose_code, normalise_code, suggest_codes
    from orgs.models import EnrollmentCode
    from support_tools.actors import Actor

    def lookup(text: str) -> None:
        """The reads that depend on the table's size: the code, else the suggestions."""
        normalised = normalise_code(text)
        if not (
            normalised.well_formed and EnrollmentCode.objects.filter(code=normalised.text).exists()
        ):
            suggest_codes(normalised.digits)

    rng = random.Random(7)
    actor = Actor.system("bench")
    pick = lambda: rng.choice(codes)  # noqa: E731

    def one_edit():
        code = pick()
        return _edit(code, rng, rng.choice(["substitute", "insert", "delete"])), code

    def two_edits():
        code = pick()
        kinds = rng.sample(["substitute", "insert", "delete", "swap"], 2)
        return _edit(_edit(code, rng, kinds[0]), rng, kinds[1]), code

    cases = {
        "found code": lambda: (pick(), None),
        "found, pasted as a link": lambda: (
            f"https://learn.example.com/enrollmentcode/{pick()}/?utm=1",
            None,
        ),
        "typo: 1 edit (sub/ins/del)": one_edit,
        "typo: swap of neighbours": lambda: (lambda c: (_edit(c, rng, "swap"), c))(pick()),
        "typo: 2 edits": two_edits,
        "unknown well-formed code": lambda: (str(uuid.uuid4()), None),
        "garbage": lambda: (
            rng.choice(["hello", "my code does not work", "x" * 36, "1234-5678", "🙂" * 5]),
            None,
        ),
    }
    for _ in range(20):  # warm the caches
        diagnose_code(code_text=pick(), actor=actor)

    print()
    print(f"{samples} calls per case, each a whole diagnose_code with its audit row")
    print("lookup: the same inputs, only the reads that depend on the number of codes")
    header = (
        f"{'case':<28} {'median ms':>9} {'p95 ms':>8} {'max ms':>8} {'queries':>8}  {'found':>7}"
        f"  {'lookup median':>13} {'lookup p95':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, make in cases.items():
        timings, lookups, queries, hits, expected = [], [], set(), 0, 0
        for _ in range(samples):
            text, target = make()
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = diagnose_code(code_text=text, actor=actor)
                timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            lookup(text)
            lookups.append((time.perf_counter() - started) * 1000)
            queries.add(len(captured))
            if target is not None:
                expected += 1
                hits += target in result.suggestions
            elif name.startswith("found"):
                expected += 1
                hits += result.as_dict()["found"]
        timings.sort()
        lookups.sort()
        query_text = "-".join(str(q) for q in sorted({min(queries), max(queries)}))
        found = f"{hits}/{expected}" if expected else "-"
        print(
            f"{name:<28} {statistics.median(timings):>9.2f} {_p95(timings):>8.2f}"
            f" {timings[-1]:>8.2f} {query_text:>8}  {found:>7}"
            f"  {statistics.median(lookups):>13.2f} {_p95(lookups):>10.2f}"
        )


def _p95(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


if __name__ == "__main__":
    main()
