#!/usr/bin/env bash
# Screenshots of the dashboards on the reference scenario. Playing the scenario takes about
# two and a half minutes in a debug build, too slow for the browser test suite, so this
# runs on its own: builds motcua, plays `demo --scenario ninh-thuan-2019` into a fresh data
# directory (or reuses SCENARIO_DATA_DIR if it already holds it), serves it on a free
# port, and runs screenshots-scenario.mjs (checks and docs/screenshots/web-dashboard-*.png).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/motcua-target}"
cargo build -q -p motcua
bin="$CARGO_TARGET_DIR/debug/motcua"
data="${SCENARIO_DATA_DIR:-}"
if [ -z "$data" ]; then
  data="$(mktemp -d /tmp/motcua-scenario-XXXXXX)"
  trap 'rm -rf "$data"' EXIT
fi
if [ ! -e "$data/.scenario-played" ]; then
  echo "playing the scenario into $data (about 2–3 minutes)…"
  MOTCUA_DATA_DIR="$data" RUST_LOG=warn "$bin" demo --scenario ninh-thuan-2019 >/dev/null
  touch "$data/.scenario-played"
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
MOTCUA_DATA_DIR="$data" MOTCUA_LISTEN="127.0.0.1:$port" RUST_LOG=warn "$bin" serve &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; [ -z "${SCENARIO_DATA_DIR:-}" ] && rm -rf "$data"' EXIT
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  kill -0 $server 2>/dev/null || { echo "motcua exited" >&2; exit 1; }
  sleep 0.1
done
MOTCUA_BASE="http://127.0.0.1:$port" node screenshots-scenario.mjs
