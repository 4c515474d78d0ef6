"""Benchmark: a big link sheet through the REST API as a background job, end to end.

    SUPPORT_TOOLS_INSECURE_DEV=1 .venv/bin/python bench/jobs.py [--learners 100000]

Uses DATABASE_URL (PostgreSQL from scripts/pg.sh; SQLite files when unset) and REDIS_URL
(scripts/redis.sh; started and stopped by this script when unset). Builds the program of
bench/link_program_enrollments.py (N learners x 3 program course enrollments) in a base
database, then, on two fresh copies of it:

- direct: links the whole sheet with the service in this process (what the job's steps call);
- job: starts the WSGI server (gunicorn) and a Celery worker on the copy, POSTs the sheet as CSV
  to /api/v1/programs/<uuid>/link with a staff API token, expects 202, and polls
  GET /api/v1/jobs/<id>?rows=false every POLL seconds until the job is done; then reads the
  whole result (its rows) once.

Printed: the end-to-end time (POST sent to job seen done), its parts (the POST's answer, the
queue's wait, the worker's run), the result download, and the overhead against the direct
call. Both copies must end in the same state, with the same statuses.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import link_program_enrollments as data  # noqa: E402  (the same program and loop)

POLL = 0.5
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_env() -> tuple[str, str | None]:
    """REDIS_URL, and the directory of a Redis this script started (None: given)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    out = subprocess.run(
        [str(ROOT / "scripts/redis.sh"), "start"], check=True, capture_output=True, text=True
    ).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    return env["REDIS_URL"], env["REDIS_TMP"]


def staff_token() -> str:
    """A superuser of the job's copy and an API token for it (knox, as create_api_token)."""
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    user = get_user_model().objects.create_superuser("bench-staff", "bench@example.com", "!")
    return AuthToken.objects.create(user)[1]


def call(method: str, url: str, token: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "text/csv")
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: exit {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without a token)
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer within 60 s")


def run_job(db_url: str, redis_url: str, token: str, pairs: list[tuple[str, str]]) -> dict:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
    env.pop("CELERY_BROKER_URL", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "project.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "600", "--log-level", "warning"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "project", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(f"{base}/api/v1/jobs/00000000-0000-0000-0000-000000000000", server)
        body = ("external_user_key,username\n" + "".join(f"{k},{u}\n" for k, u in pairs)).encode()
        sent = time.perf_counter()
        status, answer = call("POST", f"{base}/api/v1/programs/{data.PROGRAM}/link", token, body)
        answered = time.perf_counter()
        if status != 202:
            raise SystemExit(f"expected 202 for {len(pairs):,} rows, got {status}: {answer}")
        job_url = f"{base}/api/v1/jobs/{answer['job']['id']}"
        polls = 0
        while True:
            polls += 1
            status, job = call("GET", f"{job_url}?rows=false", token)
            if status != 200 or job["status"] in {"done", "failed"}:
                break
            time.sleep(POLL)
        done = time.perf_counter()
        if job.get("status") != "done":
            raise SystemExit(f"the job did not finish: {status} {job}")
        status, whole = call("GET", job_url, token)
        downloaded = time.perf_counter()
    finally:
        for proc in (worker, server):
            proc.terminate()
        for proc in (worker, server):
            proc.wait(timeout=60)
    return {
        "post": answered - sent,
        "end_to_end": done - sent,
        "download": downloaded - done,
        "polls": polls,
        "statuses": [r["status"] for r in whole["result"]["results"]],
        "job_id": answer["job"]["id"],
    }


def job_times(job_id: str) -> tuple[float, float]:
    """The queue's wait (created to started) and the worker's run (started to finished)."""
    from support_tools.jobs.models import Job

    job = Job.objects.get(pk=job_id)
    wait = (job.started_at - job.created_at).total_seconds()
    ran = (job.finished_at - job.started_at).total_seconds()
    return wait, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("SUPPORT_TOOLS_INSECURE_DEV", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    redis_url, redis_tmp = redis_env()
    dbs = data.Databases()
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        label = dbs.label()
        n = args.learners
        if n <= settings.BULK_SYNC_LIMIT:
            raise SystemExit(f"--learners must exceed BULK_SYNC_LIMIT ({settings.BULK_SYNC_LIMIT})")
        started = time.perf_counter()
        base = dbs.build(n)
        print(f"{n:,} learners built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        pairs = data.sheet(n)

        dbs.copy(base, "direct")
        direct, queries, direct_statuses = data.counted(lambda: data.ours(pairs))
        direct_state = data.fingerprint()
        dbs.drop(dbs.name("direct"))

        job_db = dbs.copy(base, "job")
        token = staff_token()
        connections.close_all()
        job = run_job(dbs.url(job_db), redis_url, token, pairs)
        wait, ran = job_times(job["job_id"])
        job_state = data.fingerprint()
        dbs.drop(job_db)
        dbs.drop(base)
    finally:
        dbs.cleanup()
        if redis_tmp:
            subprocess.run([str(ROOT / "scripts/redis.sh"), "stop", redis_tmp], check=False)

    same = job["statuses"] == direct_statuses and job_state == direct_state
    overhead = job["end_to_end"] - direct
    print(f"link job benchmark on {label}, broker Redis, one Celery worker (solo pool), gunicorn")
    print(f"{n:,} learners x {len(data.COURSES)} program course enrollments, one CSV sheet")
    print(f"  direct call (the service)     {direct:8.2f} s  ({queries:,} queries)")
    print(f"  job, end to end               {job['end_to_end']:8.2f} s  (POST sent to done seen)")
    print(f"    POST answered 202 in        {job['post']:8.2f} s  (reads and stores the sheet)")
    print(f"    waited in the queue         {wait:8.2f} s")
    print(f"    the worker's run            {ran:8.2f} s")
    print(f"    polls (every {POLL} s)        {job['polls']:8d}")
    print(f"  whole result with its rows    {job['download']:8.2f} s  (one GET)")
    print(
        f"  job overhead                  {overhead:+8.2f} s  "
        f"({job['end_to_end'] / direct:.2f}x the direct call)"
    )
    print(f"  same statuses and end state as the direct call: {'yes' if same else 'NO'}")
    print(f"  measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
