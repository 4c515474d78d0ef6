#!/usr/bin/env bash
# The whole suite: lint, then every test on SQLite and on a throwaway PostgreSQL,
# with a real Keycloak started on loopback for both.
set -euo pipefail
cd "$(dirname "$0")/.."
export SUPPORT_TOOLS_INSECURE_DEV=1
BIN=.venv/bin

echo "== ruff" >&2
$BIN/ruff check .
$BIN/ruff format --check .

echo "== import-linter: the layers of README's Layout" >&2
$BIN/lint-imports

cleanup() {
  [ -n "${PG_TMP:-}" ] && scripts/pg.sh stop "$PG_TMP"
  [ -n "${REDIS_TMP:-}" ] && scripts/redis.sh stop "$REDIS_TMP"
  [ -x scripts/keycloak.sh ] && scripts/keycloak.sh stop || true
}
trap cleanup EXIT

if [ -x scripts/keycloak.sh ]; then
  echo "== Keycloak" >&2
  kc_env=$(scripts/keycloak.sh start)  # fails the run when Keycloak cannot start
  eval "$kc_env"
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian's chromium for the browser tests" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
fi

if [ ! -d tests/browser/node_modules/axe-core ]; then
  echo "== axe-core for the browser tests' accessibility checks" >&2
  npm ci --prefix tests/browser --no-audit --no-fund >&2
fi

echo "== Redis (the task queue's broker)" >&2
redis_env=$(scripts/redis.sh start)
eval "$redis_env"

echo "== PostgreSQL" >&2
pg_env=$(scripts/pg.sh start)
eval "$pg_env"
pg_url=$DATABASE_URL
unset DATABASE_URL

# The suites that drive the doors whole (the browser walks, schemathesis, the fuzz harness)
# run once, on PostgreSQL, the production database (NUL is an error there, not on SQLite);
# everything else runs on both. Named tests run on both as asked.
sqlite_args=("$@")
[ $# -eq 0 ] && sqlite_args=(--ignore=tests/browser --ignore=tests/api --ignore=tests/fuzz)

echo "== tests on SQLite" >&2
$BIN/pytest -q "${sqlite_args[@]}"

echo "== tests on PostgreSQL" >&2
DATABASE_URL=$pg_url $BIN/pytest -q "$@"
