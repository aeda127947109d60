#!/usr/bin/env bash
# Makes the upgrade test's fixtures (crates/motcua/tests/fixtures/upgrade/) with the binary
# of the release upgrades are supported from:
#   scripts/upgrade-fixture.sh REV
# REV (a tag or commit) is taken with `git archive`, so the working tree is left alone, and
# built in a target directory of its own (MOTCUA_UPGRADE_TARGET). The ignored test
# `make_fixture` (crates/motcua/tests/upgrade.rs) then drives that binary through its API,
# on SQLite and on a throw-away PostgreSQL, and writes per backend the dump, the anchor
# file and what the old version answered for each dossier. It refuses to write them unless
# FROM_MIGRATION in upgrade.rs is REV's last migration: set it first.
# Needs sqlite3, pg_dump and the PostgreSQL server (scripts/deps.sh).
set -euo pipefail

rev=${1:?usage: scripts/upgrade-fixture.sh REV}
root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse --short "$rev^{commit}")
src=${MOTCUA_UPGRADE_SRC:-/var/tmp/motcua-upgrade-src}
target=${MOTCUA_UPGRADE_TARGET:-/var/tmp/motcua-upgrade-target}

if [ "$(cat "$src/.motcua-release" 2>/dev/null)" != "$commit" ]; then
  rm -rf "$src"
  mkdir -p "$src"
  git -C "$root" archive "$commit" | tar -x -C "$src"
  echo "$commit" > "$src/.motcua-release"
fi
(cd "$src" && CARGO_TARGET_DIR="$target" cargo build -p motcua --bin motcua)

export MOTCUA_UPGRADE_OLD_BIN="$target/debug/motcua" MOTCUA_UPGRADE_RELEASE="$commit"
cd "$root"
cargo test -p motcua --test upgrade -- --ignored --exact make_fixture
MOTCUA_TEST_BACKEND=postgres scripts/with-postgres.sh \
  cargo test -p motcua --test upgrade -- --ignored --exact make_fixture
ls -l crates/motcua/tests/fixtures/upgrade
echo "upgrade-fixture: written from $commit; run the upgrade test on both backends, then commit the fixtures"
