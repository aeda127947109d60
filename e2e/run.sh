#!/usr/bin/env bash
# The browser tests: builds motcua, installs playwright-core (npm) and Debian's chromium if
# missing, and runs e2e/tests/*.test.mjs against servers they start on fresh databases.
# With MOTCUA_TEST_BACKEND=postgres (inside scripts/with-postgres.sh) they run on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/motcua-target}"

../scripts/deps.sh
# npm packages: installed from the lock file, again only when the lock file changed.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.motcua-lock; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.motcua-lock
fi
cargo build -q -p motcua
export MOTCUA_BIN="$CARGO_TARGET_DIR/debug/motcua"
node --test --test-concurrency=1 tests/
