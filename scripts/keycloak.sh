#!/usr/bin/env bash
# A throwaway Keycloak for tests and the demo, on loopback, in dev mode with an in-memory database.
#
#   eval "$(scripts/keycloak.sh start [--demo])"   # prints only `export KEY=VALUE` lines on stdout
#   scripts/keycloak.sh stop [PID_FILE]             # default: $KEYCLOAK_PID_FILE
#
# The pinned distribution is fetched once with Maven into a cache outside the repository
# (${XDG_CACHE_HOME:-$HOME/.cache}/support-tools) and needs Java 21 or newer.
# `start` then creates the test realm, its organizations, identity provider, service-account
# client and users with scripts/keycloak_setup.py (see orgs/README-keycloak.md).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYCLOAK_VERSION=26.4.7
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/support-tools"
DIST_ZIP="$CACHE_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
KC_HOME="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
READY_TIMEOUT=${KEYCLOAK_READY_TIMEOUT:-120}
PYTHON=${PYTHON:-.venv/bin/python}

say() { echo "keycloak.sh: $*" >&2; }
die() { say "$*"; exit 1; }

java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

find_java() {
  local candidate major
  for candidate in /usr/lib/jvm/temurin-*/bin/java "${JAVA_HOME:-/nonexistent}/bin/java" \
    /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [ -x "$candidate" ] || continue
    major=$(java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      dirname "$(dirname "$(readlink -f "$candidate")")"
      return 0
    fi
  done
  return 1
}

ensure_java() {
  local home
  if home=$(find_java); then echo "$home"; return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    local pkg
    for pkg in openjdk-21-jre-headless openjdk-25-jre-headless; do
      if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        say "no Java 21 or newer found; installing $pkg"
        apt-get install -y -q "$pkg" >&2 || true
        if home=$(find_java); then echo "$home"; return 0; fi
      fi
    done
  fi
  die "Keycloak $KEYCLOAK_VERSION needs Java 21 or newer, and none was found (looked in /usr/lib/jvm, \$JAVA_HOME and PATH). Install a JDK 21+ and retry."
}

ensure_dist() {
  mkdir -p "$CACHE_DIR"
  if [ ! -f "$DIST_ZIP" ]; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed once to fetch Keycloak $KEYCLOAK_VERSION into $CACHE_DIR."
    say "fetching Keycloak $KEYCLOAK_VERSION into $CACHE_DIR (once)"
    mvn -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$CACHE_DIR" >&2 || die "could not fetch Keycloak with Maven"
  fi
  if [ ! -x "$KC_HOME/bin/kc.sh" ]; then
    say "unpacking $DIST_ZIP"
    local tmp
    tmp=$(mktemp -d "$CACHE_DIR/unpack.XXXXXX")
    unzip -q "$DIST_ZIP" -d "$tmp" >&2
    if [ ! -x "$KC_HOME/bin/kc.sh" ]; then mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$KC_HOME"; fi
    rm -rf "$tmp"
  fi
}

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local demo=""
  [ "${1:-}" = "--demo" ] && demo="--demo"
  [ -x "$PYTHON" ] || die "the project's virtualenv is missing ($PYTHON): run make install first"
  local java_home port run_dir url admin_password started
  java_home=$(ensure_java)
  ensure_dist
  port=$(free_port)
  run_dir=$(mktemp -d "${TMPDIR:-/tmp}/support-tools-keycloak.XXXXXX")
  admin_password=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(16))')
  url="http://127.0.0.1:$port"
  say "starting Keycloak $KEYCLOAK_VERSION at $url (log: $run_dir/keycloak.log)"
  started=$(date +%s)
  # setsid: the server gets its own process group, so `stop` ends it and nothing else.
  JAVA_HOME="$java_home" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
    JAVA_OPTS_APPEND="-Dquarkus.transaction-manager.object-store.directory=$run_dir/tx" \
    setsid "$KC_HOME/bin/kc.sh" start-dev --db=dev-mem --http-host=127.0.0.1 \
    --http-port="$port" \
    >"$run_dir/keycloak.log" 2>&1 </dev/null &
  echo $! >"$run_dir/keycloak.pid"
  local i
  for ((i = 0; i < READY_TIMEOUT * 2; i++)); do
    if curl -sf -o /dev/null "$url/realms/master"; then break; fi
    if ! kill -0 "$(cat "$run_dir/keycloak.pid")" 2>/dev/null; then
      tail -n 30 "$run_dir/keycloak.log" >&2
      die "Keycloak exited during start-up (log above: $run_dir/keycloak.log)"
    fi
    sleep 0.5
  done
  if ! curl -sf -o /dev/null "$url/realms/master"; then
    tail -n 30 "$run_dir/keycloak.log" >&2
    stop "$run_dir/keycloak.pid"
    die "Keycloak was not ready after ${READY_TIMEOUT}s (log tail above)"
  fi
  say "ready after $(($(date +%s) - started))s; setting up the realm"
  local exports
  if ! exports=$(KEYCLOAK_ADMIN_USER=admin KEYCLOAK_ADMIN_PASSWORD="$admin_password" \
    "$PYTHON" scripts/keycloak_setup.py --server-url "$url" $demo); then
    stop "$run_dir/keycloak.pid"
    die "the realm set-up failed (see above)"
  fi
  echo "export KEYCLOAK_SERVER_URL=$url"
  echo "$exports"
  echo "export KEYCLOAK_ADMIN_USER=admin"
  echo "export KEYCLOAK_ADMIN_PASSWORD=$admin_password"
  echo "export KEYCLOAK_PID_FILE=$run_dir/keycloak.pid"
  say "ready in $(($(date +%s) - started))s"
}

stop() {
  local pid_file=${1:-${KEYCLOAK_PID_FILE:-}}
  [ -n "$pid_file" ] || die "stop: give the pid file (or set KEYCLOAK_PID_FILE)"
  [ -f "$pid_file" ] || { say "stop: no pid file $pid_file; nothing to stop"; return 0; }
  local pid i
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || true; }
  fi
  case "$(dirname "$pid_file")" in */support-tools-keycloak.*) rm -rf "$(dirname "$pid_file")" ;; esac
  say "stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: scripts/keycloak.sh start [--demo] | stop [PID_FILE]" ;;
esac
