#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the test suite.
#   eval "$(scripts/pg.sh start)"   -> exports DATABASE_URL and PG_TMP
#   scripts/pg.sh stop "$PG_TMP"
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_pg() {
  [ -n "$(find_bin)" ] && return 0
  echo "PostgreSQL not found: installing Debian's postgresql package" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
  # The package starts its own cluster; the tests do not use it.
  $sudo pg_ctlcluster --help >/dev/null 2>&1 && $sudo service postgresql stop >&2 || true
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
  start)
    install_pg
    bin=$(find_bin)
    tmp=$(mktemp -d /tmp/support-tools-pg.XXXXXX)
    chmod 755 "$tmp"
    [ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
    port=$(free_port)
    as_owner "$bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w start -o \
      "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
    echo "export PG_TMP=$tmp"
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/support_tools"
    ;;
  stop)
    tmp="${2:?usage: pg.sh stop DIR}"
    bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
