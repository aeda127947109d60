#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every test on SQLite and again on
# PostgreSQL (a temporary server on a free loopback port), each time with the browser
# tests of e2e/ (Debian's chromium driven by playwright-core) and schemathesis over the
# OpenAPI document (scripts/schemathesis.sh). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/motcua-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

started=$SECONDS
report_time() { echo "== total time: $((SECONDS - started)) s"; }
trap report_time EXIT

scripts/deps.sh

echo "== fmt and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings

echo "== tests on SQLite"
cargo test --workspace -q

echo "== browser tests on SQLite"
e2e/run.sh

echo "== schemathesis on SQLite"
scripts/schemathesis.sh

echo "== tests on PostgreSQL"
MOTCUA_TEST_BACKEND=postgres scripts/with-postgres.sh bash -c 'cargo test --workspace -q && echo "== browser tests on PostgreSQL" && e2e/run.sh && echo "== schemathesis on PostgreSQL" && scripts/schemathesis.sh'
