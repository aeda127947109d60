#!/usr/bin/env bash
# Hostile input against the JSON API (issue 19): schemathesis (PyPI) generates requests from
# /api/openapi.json and checks that none gets a 5xx and that every answer matches the
# document (status code, content type, body schema, headers), once with an administrator's
# API token and once with a counter officer's. Runs against a real `motcua serve` on a free
# loopback port with a fresh demo database: SQLite in a temporary directory, or, when
# MOTCUA_TEST_PG_URL is set (scripts/with-postgres.sh), a fresh PostgreSQL database.
#   scripts/schemathesis.sh              (the test command calls it)
#   MOTCUA_SCHEMATHESIS_EXAMPLES=200 scripts/schemathesis.sh   (a longer run)
# The seed is printed; `MOTCUA_SCHEMATHESIS_SEED=<seed>` replays a run. One worker: with two,
# schemathesis 4.32 on CPython 3.11 once failed inside itself (a thread-unsafe source read).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/motcua-target}"

venv="${MOTCUA_TEST_VENV:-/var/tmp/motcua-venv}"
st="$venv/bin/schemathesis"
examples="${MOTCUA_SCHEMATHESIS_EXAMPLES:-20}"
seed="${MOTCUA_SCHEMATHESIS_SEED:-$(( (RANDOM << 15) | RANDOM ))}"

cargo build -q -p motcua
bin="$CARGO_TARGET_DIR/debug/motcua"

work=$(mktemp -d /tmp/motcua-st.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=""
for _ in $(seq 1 50); do
  candidate=$(( 20000 + RANDOM % 30000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "schemathesis: no free port found" >&2; exit 1; }
base="http://127.0.0.1:$port"

if [ -n "${MOTCUA_TEST_PG_URL:-}" ]; then
  db="motcua_st_$$_$RANDOM"
  psql -q "$MOTCUA_TEST_PG_URL" -c "CREATE DATABASE $db" >/dev/null
  export MOTCUA_DATABASE_URL="${MOTCUA_TEST_PG_URL%/*}/$db"
  backend=PostgreSQL
else
  unset MOTCUA_DATABASE_URL
  backend=SQLite
fi
# Codes to the log: with no mail or SMS channel, registration answers 503 by design, and a
# fuzzer that happens to send a valid registration would report it as a server error.
MOTCUA_LISTEN="127.0.0.1:$port" MOTCUA_DATA_DIR="$work/data" MOTCUA_DEV_LOG_CODES=true RUST_LOG=warn "$bin" serve >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done

# An API token made by the demo administrator, with the given scopes.
token() {
  local jar="$work/jar" csrf
  csrf=$(curl -fsS -c "$jar" -H 'content-type: application/json' \
    -d '{"username":"quantri","password":"motcua-demo-2019"}' "$base/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
  curl -fsS -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d "{\"name\":\"schemathesis $1\",\"scopes\":$2}" "$base/api/v1/admin/tokens" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
admin=$(token admin '["admin","catalogue:write","dossiers:read"]')
counter=$(token counter '["dossiers:counter"]')

status=0
for who in admin counter; do
  secret=${!who}
  echo "== schemathesis on $backend as $who (seed $seed, $examples examples per operation)"
  # From the temporary directory: schemathesis leaves its cache where it runs.
  (cd "$work" && "$st" run "$base/api/openapi.json" \
    -H "Authorization: Bearer $secret" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed "$seed" --workers 1 \
    --no-color) || status=1
done
if grep -q "panicked" "$work/server.log"; then
  echo "schemathesis: the server panicked:" >&2
  grep -A3 "panicked" "$work/server.log" >&2
  status=1
fi
exit $status
