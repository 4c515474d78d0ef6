#!/usr/bin/env bash
# The demo: the embedded SQLite default, demo data, the admin on http://127.0.0.1:8000/admin/
set -euo pipefail
cd "$(dirname "$0")/.."
export SUPPORT_TOOLS_INSECURE_DEV=1
export AMC_OAUTH_CLIENT_ID=${AMC_OAUTH_CLIENT_ID:-amc-demo-client}
BIN=.venv/bin

mkdir -p var
# What a new shell needs to reach this demo: manage.py reads it (README's examples).
write_env() {
  {
    echo "# Written by scripts/demo.sh: the demo's settings, read by manage.py. Delete to forget."
    echo "SUPPORT_TOOLS_INSECURE_DEV=1"
    echo "AMC_OAUTH_CLIENT_ID=$AMC_OAUTH_CLIENT_ID"
    env | grep -E '^(KEYCLOAK_(SERVER_URL|REALM|CLIENT_ID|CLIENT_SECRET)|REDIS_URL|CELERY_BROKER_URL)=' || true
  } > var/demo.env
}
write_env

$BIN/python manage.py migrate -v0
$BIN/python manage.py seed_demo

# Stopped when the server ends: the demo's Keycloak, Redis and Celery worker.
WORKER_PID=""
stop_all() {
  [ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
  [ -n "${REDIS_TMP:-}" ] && scripts/redis.sh stop "$REDIS_TMP"
  [ -n "${KC_STARTED:-}" ] && scripts/keycloak.sh stop
  return 0
}
trap stop_all EXIT

if [ -x scripts/keycloak.sh ]; then
  if kc_env=$(scripts/keycloak.sh start --demo); then
    eval "$kc_env"
    KC_STARTED=1
    write_env
    $BIN/python manage.py seed_demo --keycloak || true
  else
    echo "Keycloak could not start (see above): the membership checks will say that Keycloak is not configured." >&2
  fi
fi

# Background jobs (big link sheets, large sweeps): the same broker as production, Debian's
# redis-server on a free loopback port, and one Celery worker beside the server.
if redis_env=$(scripts/redis.sh start); then
  eval "$redis_env"
  write_env
  $BIN/celery -A project worker --pool solo --loglevel WARNING >var/worker.log 2>&1 &
  WORKER_PID=$!
else
  echo "Redis could not start (see above): big sheets and large sweeps will say that the job queue is unreachable." >&2
fi

cat >&2 <<MSG

  Support Tools demo: http://127.0.0.1:8000/admin/
  superuser: admin / demo     support staff: support / demo     support lead: lead / demo

MSG
# Not exec: the EXIT trap stops the demo Keycloak when the server ends.
$BIN/python manage.py runserver 127.0.0.1:8000
