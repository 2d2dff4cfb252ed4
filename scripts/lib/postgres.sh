#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on a free loopback port, for the tests.
#
#   scripts/lib/postgres.sh start   starts one; prints shell assignments for
#       HOP_TEST_POSTGRES_DIR  its directory (data, log, socket)
#       HOP_TEST_POSTGRES_DSN  superuser DSN (database "postgres", TLS off)
#   scripts/lib/postgres.sh stop DIR   stops the cluster in DIR and removes DIR
#   scripts/lib/postgres.sh ctl DIR ARGS…   runs pg_ctl ARGS… for the cluster in DIR
#       (e.g. `ctl DIR -m fast restart`; tests use it to take the server away and back)
#
# scripts/test runs `eval "$(scripts/lib/postgres.sh start)"`; a test that must restart a
# server starts a cluster of its own the same way. Needs Debian's postgresql and root (the
# server runs as the "postgres" user).
set -euo pipefail

# Close every inherited descriptor above stderr: the server outlives this script, and a parent
# that watches one of them (Foundation's Process does) would otherwise wait for the server.
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
done

start() {
    local bin dir port password
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    dir=$(mktemp -d /tmp/hopgate-pg.XXXXXX)
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    chown postgres: "$dir"; chmod 700 "$dir"
    echo "$password" > "$dir/pw"; chown postgres "$dir/pw"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A scram-sha-256 \
        --pwfile="$dir/pw" --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
    rm -f "$dir/pw"
    # Kept for `ctl DIR start`: pg_ctl start forgets the options of an earlier start.
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" > "$dir/options"
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "$(cat "$dir/options")" start >/dev/null \
        || { cat "$dir/log" >&2; rm -rf "$dir"; exit 1; }
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
    echo "export HOP_TEST_POSTGRES_DIR='$dir'"
    echo "export HOP_TEST_POSTGRES_DSN='postgres://postgres:$password@127.0.0.1:$port/postgres?sslmode=disable'"
}

stop() {
    local dir=${1:?usage: postgres.sh stop DIR}
    [ -d "$dir" ] || return 0
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

ctl() {
    local dir=${1:?usage: postgres.sh ctl DIR ARGS…}; shift
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "$(cat "$dir/options")" "$@" >/dev/null
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    ctl) shift; ctl "$@" ;;
    *) echo "usage: $0 start | stop DIR | ctl DIR PG_CTL_ARGS…" >&2; exit 2 ;;
esac
