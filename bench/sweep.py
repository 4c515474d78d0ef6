"""Benchmark of the sweep on PostgreSQL: the whole sweep without Keycloak on a large platform,
then (with --keycloak) the membership sweep against the real Keycloak.

    eval "$(scripts/pg.sh start)"                          # DATABASE_URL of a PostgreSQL server
    eval "$(scripts/keycloak.sh start)"                    # only for --keycloak
    SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/sweep.py [--keycloak]

It creates its own database on the server of DATABASE_URL (dropped at the end unless --keep),
migrates it and fills it with INSERT ... SELECT generate_series (seconds, not minutes):
1,000,000 users; 100,000 AMC admins, a tenth of them broken in each of nine ways (token
missing, expired, expiring soon, refresh token missing, AMC account missing, AMC account
holding other tokens, site mapping missing, site mapping inactive, an organization with two
sites) and a tenth healthy; 1,000,000 codes over 10,000 contracts, 1 % of them out of step
with their contract, some contracts full or nearly full; 100,000 linked program enrollments
with two courses each, a fifth of them wrong (no course enrollment, the wrong track, a waiting
staff role). The sweep then runs in a child process of its own, so that its peak memory is its
own: time, queries, peak resident memory and findings per code are printed.

With --keycloak: 10 Keycloak organizations (5 with an identity provider) with 2,000 members,
made through Keycloak's admin API (and removed afterwards), 200 local members Keycloak does not
list, passwords and missing local memberships here and there; the membership sweep is timed
and its Keycloak calls counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")

APP_CLIENT_ID = "amc-bench"
GOALS = {"seconds": 60, "peak_mb": 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--admins", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--programs", type=int, default=100_000)
    parser.add_argument("--keycloak", action="store_true", help="Also the membership sweep.")
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--keycloak-orgs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--child", choices=["sweep", "membership"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/sweep.py runs on PostgreSQL: set DATABASE_URL (scripts/pg.sh start).")
    drop = _own_database(url)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from bench import sweep_data

        print(f"database: {_describe()}; load average {os.getloadavg()[0]:.2f}", flush=True)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        sweep_data.fill(args)
        print(f"filled in {time.perf_counter() - started:.1f} s", flush=True)
        _report("whole sweep without Keycloak", _spawn("sweep"), goals=True)
        if args.keycloak:
            cleanup = sweep_data.fill_keycloak(args)
            try:
                _report("membership sweep against Keycloak", _spawn("membership"))
            finally:
                cleanup()
    finally:
        if not args.keep:
            drop()


def _spawn(child: str) -> dict:
    env = {**os.environ, "AMC_OAUTH_CLIENT_ID": APP_CLIENT_ID}
    if child == "sweep":
        env.pop("KEYCLOAK_SERVER_URL", None)  # the sweep without Keycloak
    done = subprocess.run(
        [sys.executable, __file__, "--child", child],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the {child} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(which: str) -> None:
    """One sweep in this fresh process: its time, queries, peak memory and findings."""
    import resource

    import django

    django.setup()
    from django.db import connection

    from support_tools.actors import Actor

    queries = 0

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    load = os.getloadavg()[0]
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        if which == "sweep":
            from console.sweeps.service import run_sweep

            result = run_sweep(actor=Actor.system("bench/sweep.py"))
            findings, stats = result.findings, result.stats
        else:
            from orgs.membership.sweep import find_problems
            from support_tools.sweeps import SweepStats

            found = SweepStats()
            findings = list(find_problems(stats=found))
            stats = {"membership": {"checked": found.counts, "notes": found.notes}}
        seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.code] = counts.get(f.code, 0) + 1
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "queries": queries,
                "peak_mb": round(peak_kb / 1024, 1),
                "findings": len(findings),
                "counts": dict(sorted(counts.items())),
                "stats": stats,
                "load": [round(load, 2), round(os.getloadavg()[0], 2)],
            },
            default=str,
        )
    )


def _report(title: str, data: dict, *, goals: bool = False) -> None:
    print(f"\n{title}:")
    print(
        f"  time {data['seconds']:.2f} s, {data['queries']:,} queries, peak memory "
        f"{data['peak_mb']:.0f} MB, {data['findings']:,} findings "
        f"(load average {data['load'][0]} before, {data['load'][1]} after)"
    )
    for name, stats in data["stats"].items():
        seconds = f"{stats['seconds']:.2f} s, " if "seconds" in stats else ""
        print(f"  {name}: {seconds}checked {stats['checked']}")
        for note in stats.get("notes", [])[:5]:
            print(f"    not checked: {note}")
    for code, n in data["counts"].items():
        print(f"    {code:32} {n:>8,}")
    if goals:
        met = data["seconds"] < GOALS["seconds"] and data["peak_mb"] < GOALS["peak_mb"]
        print(
            f"  goal (under {GOALS['seconds']} s, under {GOALS['peak_mb']} MB): "
            f"{'met' if met else 'NOT met'}"
        )


def _own_database(url: str):
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"bench_sweep_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return drop


def _describe() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version} (database {connection.settings_dict['NAME']})"


if __name__ == "__main__":
    main()
