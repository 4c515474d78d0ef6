#!/usr/bin/env bash
# A throwaway Redis (Debian's redis-server) on loopback: the Celery broker of the tests and demo.
#   eval "$(scripts/redis.sh start)"   -> exports REDIS_URL and REDIS_TMP
#   scripts/redis.sh stop "$REDIS_TMP"
set -euo pipefail

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  echo "redis-server not found: installing Debian's redis-server package" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >&2
  # The package may start its own server on 6379; ours runs on a free port of its own.
  $sudo service redis-server stop >/dev/null 2>&1 || true
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
  start)
    install_redis
    tmp=$(mktemp -d /tmp/support-tools-redis.XXXXXX)
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
      --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" >&2
    for _ in $(seq 1 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    redis-cli -p "$port" ping >/dev/null 2>&1 || { cat "$tmp/redis.log" >&2; exit 1; }
    echo "export REDIS_TMP=$tmp"
    echo "export REDIS_URL=redis://127.0.0.1:$port/0"
    ;;
  stop)
    tmp="${2:?usage: redis.sh stop DIR}"
    [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
    rm -rf "$tmp"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
