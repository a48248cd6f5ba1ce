#!/usr/bin/env bash
# A throwaway PostgreSQL server (Debian's) on 127.0.0.1, for the test suite: `start DIR`
# makes a cluster in DIR, starts it on a free port and prints the URL the tests take as
# CASEDESK_TEST_PG_URL (`url DIR` prints it again); `stop DIR` stops it. Durability is off (fsync): the data is
# thrown away. Run as root, the server runs as the `postgres` user (it refuses root).
set -euo pipefail
cmd=${1:?usage: scripts/postgres.sh start|url|stop DIR}
dir=${2:?usage: scripts/postgres.sh start|url|stop DIR}
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
[[ -x $bin/pg_ctl ]] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U casedesk --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    echo "$port" >"$dir/port"
    echo "postgres://casedesk@127.0.0.1:$port"
    ;;
  url)
    echo "postgres://casedesk@127.0.0.1:$(cat "$dir/port")"
    ;;
  stop)
    [[ -d $dir/data ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: scripts/postgres.sh start|url|stop DIR" >&2; exit 1 ;;
esac
