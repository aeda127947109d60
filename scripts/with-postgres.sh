#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on a free loopback port:
#   scripts/with-postgres.sh CMD...   (CMD sees MOTCUA_TEST_PG_URL)
# The cluster lives in a temporary directory and is stopped and removed on exit.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "with-postgres: PostgreSQL server not installed (run scripts/deps.sh)" >&2; exit 1; }

dir=$(mktemp -d /tmp/motcua-pg.XXXXXX)
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: use the account the Debian package created.
  chown postgres:postgres "$dir"
  run_as=(runuser -u postgres --)
fi

# Pick a free port: one nothing answers on.
port=""
for _ in $(seq 1 50); do
  candidate=$(( 20000 + RANDOM % 30000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "with-postgres: no free port found" >&2; exit 1; }

cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Test data is disposable, so durability settings are relaxed for speed here only;
# benchmarks run their own server with synchronous_commit=on.
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null

export MOTCUA_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port"
"$@"
