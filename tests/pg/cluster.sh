#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests, on a unix socket in DIR only (no
# TCP port to collide with anything): `cluster.sh start DIR` creates and starts it,
# `cluster.sh stop DIR` stops it and removes DIR; `cluster.sh restart DIR [SECONDS]`
# stops it (fast: open sessions are cut), leaves it down SECONDS (default 0; a test
# that wants requests to meet the outage gives more than the Controller's retries
# last, about 0.6 s), and starts it again on the same data. ctest runs start and stop as the fixture
# `postgres` (tests/CMakeLists.txt); tests reach it through SPOTOPT_TEST_PG.
#
# initdb and the server refuse to run as root: as root, they run as `nobody`, and
# every test logs in as the superuser role `spotopt` (trust auth on the socket).
set -euo pipefail

action=${1:?usage: cluster.sh start|stop|restart DIR [SECONDS]}
dir=${2:?usage: cluster.sh start|stop|restart DIR [SECONDS]}
bin=${SPOTOPT_PG_BIN:-/usr/lib/postgresql/15/bin}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u nobody -- "$@")
  else
    "$@"
  fi
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m immediate -s || true
  fi
  rm -rf "$dir"
}

start_server() {
  # fsync off: the data is thrown away; the tests measure behaviour, not durability.
  as_owner "$bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -s \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
        -c max_connections=200"
}

case "$action" in
  start)
    stop  # what a killed run left behind
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U spotopt -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log"
    start_server
    ;;
  restart)
    as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -s
    sleep "${3:-0}"
    start_server
    ;;
  stop) stop ;;
  *) echo "usage: cluster.sh start|stop|restart DIR [SECONDS]" >&2; exit 2 ;;
esac
