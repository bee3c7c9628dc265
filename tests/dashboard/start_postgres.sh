#!/bin/sh
# Start a throwaway PostgreSQL cluster for the dashboard tests and print its SQLAlchemy URL.
#
#   usage: tests/dashboard/start_postgres.sh [PORT] [DIR]
#   export SDK_TEST_POSTGRES_URL="$(tests/dashboard/start_postgres.sh 5433 /tmp/sdk-pg)"
#
# Idempotent: if a server already runs from DIR it is reused. Runs the server as the
# `postgres` user when invoked as root (initdb refuses to run as root).
set -eu

PORT="${1:-5433}"
DIR="${2:-/tmp/sdk-dashboard-pg}"
DB=sdk_dashboard_test
PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
    OWNER=postgres
else
    as_pg() { "$@"; }
    OWNER="$(id -un)"
fi

mkdir -p "$DIR"
chown "$OWNER" "$DIR"
chmod 700 "$DIR"

if [ ! -f "$DIR/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$DIR" -U "$OWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR.initdb.log" 2>&1
fi

if ! as_pg "$PGBIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >/dev/null
fi

if ! as_pg "$PGBIN/psql" -h "$DIR" -p "$PORT" -U "$OWNER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    as_pg "$PGBIN/createdb" -h "$DIR" -p "$PORT" -U "$OWNER" "$DB"
fi

echo "postgresql+psycopg://$OWNER@127.0.0.1:$PORT/$DB"
