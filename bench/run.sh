#!/usr/bin/env bash
# The benchmark: builds in release mode, measures this machine's floors and motcua's
# workloads in one run, prints a table and appends it to bench/RESULTS.md.
#   bench/run.sh                      (see bench/README.md; settings are env variables)
# Needs root or sudo the first time only, to install wrk and PostgreSQL from Debian.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

# ---------------------------------------------------------------- settings
DURATION=${BENCH_DURATION:-10}        # seconds measured per workload and floor
WARMUP=${BENCH_WARMUP:-3}             # seconds of warm-up before each wrk/pgbench run
W1_WARMUP=${BENCH_W1_WARMUP:-1}       # W1's warm-up (it uses up dossier codes, see README)
W2_WARMUP=${BENCH_W2_WARMUP:-10}      # W2's warm-up: long enough to look up the whole sample once
CONNECTIONS=${BENCH_CONNECTIONS:-50}  # wrk connections, the same for workloads and floor
THREADS=${BENCH_THREADS:-2}           # wrk threads
PG_CLIENTS=${BENCH_PG_CLIENTS:-16}    # pgbench clients of the PostgreSQL floor
SQLITE_BATCH=${BENCH_SQLITE_BATCH:-100}
ROW_BYTES=${BENCH_ROW_BYTES:-1024}
BACKEND=${BACKEND:-both}              # sqlite | postgres | both
RECORD=${BENCH_RECORD:-1}             # 1: append the table to RESULTS.md
RESULTS=${BENCH_RESULTS:-$here/RESULTS.md}
BUILD=${BENCH_BUILD:-1}               # 0: use the binaries already built
REV=${BENCH_REV:-}                    # a commit to build (clean export) instead of the work tree
KEEP=${BENCH_KEEP:-0}                 # 1: keep the work directory (logs, wrk output)
DOSSIERS=${BENCH_DOSSIERS:-1000000}   # dossiers generated before the workloads (motcua generate)
YEARS=${BENCH_YEARS:-1}               # the years they are spread over (motcua generate --years)
TRACK_SAMPLE=${BENCH_TRACK_SAMPLE:-20000} # codes W2 rotates over, spread evenly over them
W5_CONNECTIONS=${BENCH_W5_CONNECTIONS:-8} # connections asking for receipts in W5
SIGN=${BENCH_SIGN:-0}                 # 1: W1 and W5 again with every form signed (issue 22)
DEMO_MAP=${BENCH_DEMO_MAP:-ninh-thuan-2019} # the demo loaded: ninh-thuan-2019 | khanh-hoa-2025 (issue 23)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/motcua-target}
FLOOR_TARGET_DIR=${BENCH_FLOOR_TARGET_DIR:-/var/tmp/motcua-bench-target}

# The demo's accounts the workloads sign in as: administrator, counter officer, director.
case "$DEMO_MAP" in
  ninh-thuan-2019) ADMIN_USER=quantri; COUNTER_USER=tiepnhan; DIRECTOR_USER=giamdoc ;;
  khanh-hoa-2025) ADMIN_USER=kh.quantri; COUNTER_USER=kh.tiepnhan; DIRECTOR_USER=kh.giamdoc ;;
  *) echo "bench: BENCH_DEMO_MAP must be ninh-thuan-2019 or khanh-hoa-2025" >&2; exit 2 ;;
esac

# Targets (issue 9).
W1_RATE=2000; W1_P99=50
W2_RATE=40000; W2_P99=5; W2_FLOOR_PCT=45
W3_RATE=15000; W3_P99=10
W5_RATE=100
W4_P50=${BENCH_W4_P50:-20}   # issue 28: 30 ms for a year of a ten-year, ten-million data set
COLD_MS=1000; RSS_MB=200
# W6, the counter queue (issue 21): calls and ticket takes at W6_RATE/s in all with
# W6_STREAMS event streams open on 50 counters.
W6_CALL_P99=20; W6_EVENT_P99=200
W6_RATE=${BENCH_W6_RATE:-200}; W6_STREAMS=${BENCH_W6_STREAMS:-1000}; W6_BOARDS=${BENCH_W6_BOARDS:-10}

# Which workloads run (the floors always do): e.g. BENCH_WORKLOADS=6 BENCH_DOSSIERS=0
# BENCH_BACKEND=sqlite for the queue alone. Cold start is measured whatever the choice.
ALL_WORKLOADS="1 2 3 4 5 6"
WORKLOADS=${BENCH_WORKLOADS:-$ALL_WORKLOADS}
want() { [[ " $WORKLOADS " == *" $1 "* ]]; }
# Writes the page cache still holds (the binaries copied, a floor's rows, the data set
# generated, the last workload's) to disk before the next measurement, so that the
# kernel's writeback of one phase does not land in the middle of the next one's fsyncs:
# a copied 400 MB binary flushed 30 s later stalled SQLite's commits for ~100 ms in W6.
# What the workload itself writes still counts against it.
settle() { sync; }

case "${1:-}" in
  -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
  "") ;;
  *) echo "bench: no arguments are taken; settings are environment variables (see bench/README.md)" >&2; exit 2 ;;
esac
for v in DURATION WARMUP W1_WARMUP W2_WARMUP CONNECTIONS THREADS PG_CLIENTS SQLITE_BATCH ROW_BYTES DOSSIERS TRACK_SAMPLE W5_CONNECTIONS SIGN; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a whole number, not '${!v}'" >&2; exit 2; }
done
[ "$DURATION" -ge 1 ] && [ "$THREADS" -ge 1 ] && [ "$CONNECTIONS" -ge "$THREADS" ] ||
  { echo "bench: need DURATION >= 1 and CONNECTIONS >= THREADS >= 1" >&2; exit 2; }
case "$BACKEND" in
  sqlite) backends=(sqlite) ;; postgres) backends=(postgres) ;; both) backends=(sqlite postgres) ;;
  *) echo "bench: BACKEND must be sqlite, postgres or both, not '$BACKEND'" >&2; exit 2 ;;
esac

# motcua reads MOTCUA_* variables and ./motcua.toml: run it in the work directory, with
# only the variables set below. RUST_LOG would change its logging: leave the default.
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^MOTCUA_' || true)
unset RUST_LOG

# ---------------------------------------------------------------- helpers
log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

t_start=$(date +%s)
work=$(mktemp -d /var/tmp/motcua-bench.XXXXXX)
pids=()
pg_dir=""
pg_port=""
pg_bin=""
pg_run_as=()

stop_pid() {
  local pid=$1 _
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

cleanup() {
  local rc=$?
  set +e
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  if [ -n "$pg_dir" ]; then
    "${pg_run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1
    cp "$pg_dir/log" "$work/postgres.log" 2>/dev/null
    rm -rf "$pg_dir"
  fi
  if [ "$rc" -ne 0 ] || [ "$KEEP" = 1 ]; then
    log "logs and wrk output kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "installing needs root or sudo: $*"
  fi
}

# Installs Debian packages, idempotently: only called for what is missing.
apt_install() {
  log "installing from Debian: $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$work/apt.log" 2>&1; then
    as_root apt-get update -q >>"$work/apt.log" 2>&1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$work/apt.log" 2>&1 ||
      die "apt-get install $* failed (see $work/apt.log)"
  fi
}

find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# Sets the variable named $1 to a loopback port nothing answers on (and not handed out).
used_ports=" "
# Listening ports come from below the kernel's ephemeral range: a port inside it may be
# the source port of one of the load generators' many outgoing connections, and binding it
# fails ("Address already in use", seen once in a W6 run with 1,000 streams).
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 11000 ] 2>/dev/null || ephemeral_low=32768
free_port() {
  local p _
  for _ in $(seq 1 100); do
    p=$((10000 + RANDOM % (ephemeral_low - 10000)))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "no free loopback port found"
}

# Starts "$@" in the background with its output in $work/$1.log; the pid lands in $bg_pid.
bg_pid=""
start_bg() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  bg_pid=$!
  pids+=("$bg_pid")
}

# HTTP status of GET $1 ("000" when nothing answers).
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

wait_200() { # url pid seconds
  local url=$1 pid=$2 deadline=$(($(date +%s) + $3))
  until [ "$(http_status "$url")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Number formatting and comparisons (awk does the arithmetic).
num() { awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); n = ""; while (length(s) > 3) { n = "," substr(s, length(s) - 2) n; s = substr(s, 1, length(s) - 3) } print s n }'; }
ms() { awk -v x="$1" 'BEGIN { if (x < 10) printf "%.2f ms", x; else printf "%.1f ms", x }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
# A share in percent: whole numbers from 10%, one decimal below, two below 1% (W4's one
# connection and W5's PDFs are a small share of the HTTP floor, and "0%" says nothing).
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { printf "0"; exit } p = 100 * a / b; if (p >= 10) printf "%.0f", p; else if (p >= 1) printf "%.1f", p; else printf "%.2f", p }'; }
# Whether $1 is at least $3 percent of $2.
share_ge() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { exit !(b > 0 && 100 * a / b >= p) }'; }

# A number or string field of the one-line JSON in $work/$1.json.
jnum() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.][0-9.eE+-]*\).*/\1/p" "$work/$1.json" | head -n 1; }
jstr() { sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" "$work/$1.json" | head -n 1; }

# Runs wrk: a warm-up of $3 seconds (0: none), then DURATION seconds with --latency; the
# done() hook's BENCH_RESULT line goes to $work/$1.json. Extra "VAR=value" arguments
# after the script are passed to it through the environment.
run_wrk() {
  local name=$1 url=$2 warm=$3 script=$4; shift 4
  local cmd=(env BENCH_LUA_DIR="$here/lua" "$@" wrk -t"$THREADS" -c"$CONNECTIONS" --timeout 5s -s "$here/lua/$script")
  if [ "$warm" -gt 0 ]; then
    "${cmd[@]}" -d"${warm}s" "$url" >"$work/wrk-$name-warmup.txt" 2>&1 ||
      die "wrk warm-up of $name failed: $(tail -n 3 "$work/wrk-$name-warmup.txt")"
  fi
  "${cmd[@]}" -d"${DURATION}s" --latency "$url" >"$work/wrk-$name.txt" 2>&1 ||
    die "wrk run of $name failed: $(tail -n 3 "$work/wrk-$name.txt")"
  grep '^BENCH_RESULT ' "$work/wrk-$name.txt" | tail -n 1 | sed 's/^BENCH_RESULT //' >"$work/$name.json"
  [ -s "$work/$name.json" ] || die "wrk printed no BENCH_RESULT for $name (see $work/wrk-$name.txt)"
}

# Socket errors and timeouts of a wrk run, as a note ("" when none).
wrk_errors() {
  local n=$1 c r w t s
  c=$(jnum "$n" err_connect); r=$(jnum "$n" err_read); w=$(jnum "$n" err_write)
  t=$(jnum "$n" err_timeout); s=$(jnum "$n" err_status)
  if [ "$((c + r + w + t + s))" -gt 0 ]; then
    echo "errors: connect $c, read $r, write $w, timeout $t, status>399 $s"
  fi
}

floor_rows=()
work_rows=()
notes=()
note() { notes+=("$*"); }
# With BENCH_SIGN=1: Debian's SoftHSM2 module, a token made by sign_setup, and the PIN's
# variable (not MOTCUA_*: the server reads those as settings).
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
SIGN_PIN=246810
# row SORTKEY WORKLOAD BACKEND MEASURED P50 P99 TARGET RATIO RESULT; the table is printed in
# SORTKEY order (W1 … W5, W6 as "5w", cold start, memory), whatever order the runs went in.
row() { work_rows+=("$1"$'\t'"| $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 |"); }

# ---------------------------------------------------------------- tools
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
[ -x "$(find_pg_bin)/pgbench" ] && [ -x "$(find_pg_bin)/initdb" ] || need+=(postgresql)
if [ "$SIGN" = 1 ]; then
  command -v openssl >/dev/null || need+=(openssl)
  command -v softhsm2-util >/dev/null && [ -e "$SOFTHSM_MODULE" ] || need+=(softhsm2)
  command -v pdfsig >/dev/null || need+=(poppler-utils)
fi
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"
pg_bin=$(find_pg_bin)
command -v cargo >/dev/null || die "cargo not found"

# ---------------------------------------------------------------- build
# The work tree by default; with BENCH_REV, a clean export of that commit (git archive,
# cached under /var/tmp/motcua-bench-src), so that edits in progress stay out of it.
t_build=$(date +%s)
src=$root
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=""
if [ -n "$REV" ]; then
  full=$(git -C "$root" rev-parse --verify -q "$REV^{commit}") || die "BENCH_REV: no commit '$REV'"
  commit=${full:0:12}
  src="/var/tmp/motcua-bench-src/$full"
  if [ ! -f "$src/Cargo.toml" ]; then
    rm -rf "$src.partial" && mkdir -p "$src.partial"
    git -C "$root" archive "$full" | tar -x -C "$src.partial" || die "cannot export $full"
    mv "$src.partial" "$src"
  fi
  # Keep only this export.
  find /var/tmp/motcua-bench-src -mindepth 1 -maxdepth 1 ! -name "$full" -exec rm -rf {} +
elif [ -n "$(git -C "$root" status --porcelain --untracked-files=normal -- . ':!bench' 2>/dev/null || true)" ]; then
  dirty=" (built from a work tree with uncommitted changes outside bench/)"
fi
motcua_bin="$CARGO_TARGET_DIR/release/motcua"
floor_bin="$FLOOR_TARGET_DIR/release/motcua-bench-floor"
queue_bin="$FLOOR_TARGET_DIR/release/motcua-bench-queue"
if [ "$BUILD" = 1 ]; then
  log "building motcua (release) from $src into $CARGO_TARGET_DIR"
  locked=(); [ -z "$REV" ] || locked=(--locked)
  (cd "$src" && cargo build --release "${locked[@]}" -p motcua) >"$work/build-motcua.log" 2>&1 ||
    die "release build of motcua failed: $(tail -n 20 "$work/build-motcua.log")"
  log "building the floor server (release) into $FLOOR_TARGET_DIR"
  CARGO_TARGET_DIR="$FLOOR_TARGET_DIR" cargo build --release --locked --manifest-path "$here/floor/Cargo.toml" \
    >"$work/build-floor.log" 2>&1 || die "build of bench/floor failed: $(tail -n 20 "$work/build-floor.log")"
  log "building the queue load generator (W6, release) into $FLOOR_TARGET_DIR"
  CARGO_TARGET_DIR="$FLOOR_TARGET_DIR" cargo build --release --locked --manifest-path "$here/queue/Cargo.toml" \
    >"$work/build-queue.log" 2>&1 || die "build of bench/queue failed: $(tail -n 20 "$work/build-queue.log")"
fi
[ -x "$motcua_bin" ] || die "$motcua_bin missing (BENCH_BUILD=0 needs an earlier build)"
[ -x "$floor_bin" ] || die "$floor_bin missing (BENCH_BUILD=0 needs an earlier build)"
[ -x "$queue_bin" ] || die "$queue_bin missing (BENCH_BUILD=0 needs an earlier build)"
# Run copies: the shared target directory may be rebuilt by someone else meanwhile.
cp "$motcua_bin" "$work/motcua" && motcua_bin="$work/motcua"
cp "$floor_bin" "$work/motcua-bench-floor" && floor_bin="$work/motcua-bench-floor"
cp "$queue_bin" "$work/motcua-bench-queue" && queue_bin="$work/motcua-bench-queue"
settle
build_secs=$(($(date +%s) - t_build))

# ---------------------------------------------------------------- the machine
cores=$(nproc)
cpu=$(grep -m 1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem_gib=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
wrk_version=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }' || true)
pg_version=$("$pg_bin/postgres" --version | awk '{ print $3 }')
log "machine: $cores cores, $cpu, $mem_gib GiB; commit $commit$dirty"

# Other work on the machine skews every figure: note the load when measuring starts.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- floor (a): HTTP
log "floor (a): minimal axum handler, wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s"
free_port port
start_bg floor-http "$floor_bin" http "127.0.0.1:$port"
floor_pid=$bg_pid
wait_200 "http://127.0.0.1:$port/" "$floor_pid" 10 || die "floor server did not answer (see $work/floor-http.log)"
run_wrk floor-http "http://127.0.0.1:$port" "$WARMUP" rotate.lua BENCH_PATH_PREFIX="/?q="
stop_pid "$floor_pid"
http_floor=$(jnum floor-http ok_rps)
floor_rows+=("| (a) HTTP: minimal axum 0.8 handler, \`GET /\` | $(num "$http_floor") req/s | $(ms "$(jnum floor-http p50_ms)") | $(ms "$(jnum floor-http p99_ms)") | wrk ${wrk_version:-?}, $THREADS threads, $CONNECTIONS connections, ${DURATION}s |")
e=$(wrk_errors floor-http); [ -z "$e" ] || note "HTTP floor $e."

# ---------------------------------------------------------------- floor (b): SQLite
settle
log "floor (b): SQLite inserts, ${ROW_BYTES}-byte rows, batches of $SQLITE_BATCH, WAL, synchronous=FULL, ${DURATION}s"
"$floor_bin" sqlite "$work/sqlite-floor" "$DURATION" "$SQLITE_BATCH" "$ROW_BYTES" >"$work/floor-sqlite.json" 2>"$work/floor-sqlite.log" ||
  die "SQLite floor failed: $(cat "$work/floor-sqlite.log")"
rm -rf "$work/sqlite-floor"
sqlite_floor=$(jnum floor-sqlite rows_per_sec)
floor_rows+=("| (b) SQLite $(jstr floor-sqlite sqlite_version): insert ~$(jnum floor-sqlite avg_row_bytes)-byte rows, $SQLITE_BATCH per transaction, WAL, synchronous=FULL | $(num "$sqlite_floor") rows/s | | | $(num "$(jnum floor-sqlite commits_per_sec)") commits/s, one connection, ${DURATION}s |")

# ---------------------------------------------------------------- floor (c): PostgreSQL
pg_start() {
  pg_dir=$(mktemp -d /var/tmp/motcua-bench-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: use the account the Debian package created.
    chown postgres:postgres "$pg_dir"
    pg_run_as=(runuser -u postgres --)
  fi
  free_port pg_port
  "${pg_run_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$work/initdb.log" 2>&1 || die "initdb failed (see $work/initdb.log)"
  # Durable settings, stated explicitly: every commit waits for its WAL flush.
  "${pg_run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c log_checkpoints=on -c log_autovacuum_min_duration=0" \
    start >"$work/pg_ctl.log" 2>&1 || die "PostgreSQL did not start: $(tail -n 5 "$pg_dir/log" 2>/dev/null)"
  pg_base="postgres://postgres@127.0.0.1:$pg_port"
}
psql_run() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

log "floor (c): PostgreSQL $pg_version inserts, $PG_CLIENTS clients, synchronous_commit=on, ${WARMUP}s warm-up + ${DURATION}s"
pg_start
psql_run -d postgres -f "$here/pg/schema.sql" >"$work/pg-schema.log" 2>&1 || die "PostgreSQL floor schema: $(cat "$work/pg-schema.log")"
pgbench=("$pg_bin/pgbench" -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c "$PG_CLIENTS" -j "$THREADS" -f "$here/pg/insert.sql")
if [ "$WARMUP" -gt 0 ]; then
  "${pgbench[@]}" -T "$WARMUP" postgres >"$work/pgbench-warmup.txt" 2>&1 || die "pgbench warm-up failed: $(tail -n 5 "$work/pgbench-warmup.txt")"
fi
"${pgbench[@]}" -T "$DURATION" postgres >"$work/pgbench.txt" 2>&1 || die "pgbench failed: $(tail -n 5 "$work/pgbench.txt")"
# The floor's rows, in PostgreSQL's buffers and the page cache, go to disk now.
psql_run -d postgres -c CHECKPOINT >/dev/null 2>&1 || true
settle
pg_floor=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.txt" | head -n 1)
pg_floor_lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$work/pgbench.txt" | head -n 1)
[ -n "$pg_floor" ] || die "no tps in pgbench output (see $work/pgbench.txt)"
floor_rows+=("| (c) PostgreSQL $pg_version: insert one ~1 KB row per transaction, synchronous_commit=on | $(num "$pg_floor") rows/s | | | pgbench, $PG_CLIENTS clients, ${DURATION}s, mean latency $(ms "$pg_floor_lat") |")

# ---------------------------------------------------------------- the server's workloads
w1_target="≥ $(num $W1_RATE)/s, p99 ≤ $W1_P99 ms"
w2_target="≥ $(num $W2_RATE) req/s, p99 ≤ $W2_P99 ms, ≥ $W2_FLOOR_PCT% of HTTP floor"
w3_target="≥ $(num $W3_RATE) req/s, p99 ≤ $W3_P99 ms"

# Logs in as $2 with password $3 on $base; prints "<session> <csrf>", or fails.
login() {
  local tag=$1 status session csrf
  status=$(curl -s -D "$work/login-$tag.headers" -o "$work/login-$tag.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "$(jq -nc --arg u "$2" --arg p "$3" '{username: $u, password: $p}')" \
    "$base/api/v1/auth/login" || true)
  session=$(tr -d '\r' <"$work/login-$tag.headers" | sed -n 's/^[Ss]et-[Cc]ookie: *motcua_session=\([^;]*\).*/\1/p' | head -n 1)
  csrf=$(jq -r '.csrf_token // empty' "$work/login-$tag.json" 2>/dev/null || true)
  [ "$status" = 200 ] && [ -n "$session" ] && [ -n "$csrf" ] || return 1
  printf '%s %s\n' "$session" "$csrf"
}

# A counter officer of the whole province, made by the demo's administrator through the
# admin API, its one-time password changed; prints "<session> <csrf>", or fails (the
# reason in $work/officer-$1.log).
province_officer() {
  local log="$work/officer-$1.log" admin a_session a_csrf otp officer o_session o_csrf status
  admin=$(login "admin-$1" "$ADMIN_USER" motcua-demo-2019) || { echo "login as $ADMIN_USER failed" >"$log"; return 1; }
  read -r a_session a_csrf <<<"$admin"
  curl -s -o "$work/officer-$1.json" -X POST -H "Cookie: motcua_session=$a_session" -H "X-CSRF-Token: $a_csrf" \
    -H 'Content-Type: application/json' \
    --data-binary '{"username":"bench.tiepnhan","display_name":"Cán bộ tiếp nhận (đo hiệu năng)","grants":[{"role":"counter_officer"}]}' \
    "$base/api/v1/admin/users" || true
  otp=$(jq -r '.one_time_password // empty' "$work/officer-$1.json" 2>/dev/null || true)
  [ -n "$otp" ] || { echo "creating the account answered: $(head -c 160 "$work/officer-$1.json")" >"$log"; return 1; }
  officer=$(login "officer-$1" bench.tiepnhan "$otp") || { echo "first login failed" >"$log"; return 1; }
  read -r o_session o_csrf <<<"$officer"
  status=$(curl -s -o "$work/officer-password-$1.json" -w '%{http_code}' -X POST \
    -H "Cookie: motcua_session=$o_session" -H "X-CSRF-Token: $o_csrf" -H 'Content-Type: application/json' \
    --data-binary "$(jq -nc --arg o "$otp" --arg n "bench-$(date +%s%N)" '{current_password: $o, new_password: $n}')" \
    "$base/api/v1/auth/password" || true)
  [ "$status" = 204 ] || { echo "changing the one-time password answered $status" >"$log"; return 1; }
  printf '%s %s\n' "$o_session" "$o_csrf"
}

# W1's bodies, one per line: for each department that receives procedures itself (not
# at the centre), one of its procedures a citizen may file, with its required documents
# and the applicant of lua/dossier.json.
department_bodies() {
  local list="$work/departments-$1.json" code detail
  curl -s "$base/api/v1/procedures?at_centre=false&limit=100" >"$list" || return 1
  local seen=" "
  for code in $(jq -r '.items[].code' "$list" 2>/dev/null); do
    detail=$(curl -s "$base/api/v1/procedures/$code") || continue
    local agency
    agency=$(jq -r 'select(.content.applicants | index("citizen")) | .content.agency // empty' <<<"$detail" 2>/dev/null || true)
    [ -n "$agency" ] && [[ $seen != *" $agency "* ]] || continue
    seen+="$agency "
    jq -c --arg p "$code" --argjson d "$(jq -c '[.content.documents | to_entries[] | select(.value.required)
      | {index: .key, originals: .value.originals, copies: .value.copies}]' <<<"$detail")" \
      '.procedure = $p | .documents = $d' "$here/lua/dossier.json"
  done
}

# A throw-away CA, a certificate for the centre signed by it, and a SoftHSM2 token in
# $work/sign holding the certificate's key, as an agency's USB token would; the settings
# that make the server sign every form with it go to $work/sign/motcua.toml.
sign_setup() {
  local d="$work/sign"
  [ -s "$d/motcua.toml" ] && return 0
  mkdir -p "$d/tokens"
  {
    openssl req -x509 -utf8 -newkey rsa:2048 -nodes -days 30 -keyout "$d/ca.key" -out "$d/ca.pem" \
      -subj "/C=VN/O=motcua đo hiệu năng/CN=CA đo hiệu năng" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
      openssl req -new -utf8 -newkey rsa:2048 -nodes -keyout "$d/centre.key" -out "$d/centre.csr" \
        -subj "/C=VN/O=Trung tâm Phục vụ hành chính công/CN=Trung tâm Phục vụ hành chính công (đo hiệu năng)" &&
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$d/leaf.ext" &&
      openssl x509 -req -in "$d/centre.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
        -extfile "$d/leaf.ext" -out "$d/centre.pem" &&
      cat "$d/centre.pem" "$d/ca.pem" >"$d/chain.pem" &&
      printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
        "$d/tokens" >"$d/softhsm2.conf" &&
      SOFTHSM2_CONF="$d/softhsm2.conf" softhsm2-util --init-token --free --label motcua-bench \
        --pin "$SIGN_PIN" --so-pin 13579135 &&
      SOFTHSM2_CONF="$d/softhsm2.conf" softhsm2-util --import "$d/centre.key" --token motcua-bench \
        --label ky-so-trung-tam --id 01 --pin "$SIGN_PIN"
  } >"$work/sign-setup.log" 2>&1 || die "making the signing token failed (see $work/sign-setup.log)"
  cat >"$d/motcua.toml" <<EOT
# Written by bench/run.sh (BENCH_SIGN=1): every agency's forms signed with one token key.
[[signing_keys]]
agency = "*"
module = "$SOFTHSM_MODULE"
token_label = "motcua-bench"
key_label = "ky-so-trung-tam"
pin_env = "BENCH_SIGN_PIN"
certificate_file = "$d/chain.pem"
EOT
}

# How many signatures the server has made (its motcua_form_sign_seconds count).
# The group commit's batches so far: "commits jobs" (motcua_write_batch_size's count and sum).
write_batches() {
  curl -s --max-time 5 "$1/metrics" |
    awk '/^motcua_write_batch_size_count/ { c += $2 } /^motcua_write_batch_size_sum/ { s += $2 } END { printf "%d %d", c, s }'
}

signatures_made() {
  curl -s --max-time 5 "$1/metrics" | awk '/^motcua_form_sign_seconds_count/ { n += $2 } END { printf "%d", n }'
}

server_workloads() {
  local backend=$1 data="$work/data-$1" port base url="" pid t0 t_ready cold first status e
  mkdir -p "$data"
  if [ "$backend" = postgres ]; then
    psql_run -d postgres -c "CREATE DATABASE motcua_bench" >/dev/null
    url="$pg_base/motcua_bench"
  fi
  free_port port
  base="http://127.0.0.1:$port"
  local menv=(env MOTCUA_LISTEN="127.0.0.1:$port" MOTCUA_PUBLIC_URL="$base" MOTCUA_DATA_DIR="$data" MOTCUA_DATABASE_URL="$url" MOTCUA_DEMO_MAP="$DEMO_MAP")

  # Prepare the data: the demo province (Ninh Thuận: 1,388 procedures; Khánh Hòa: 66
  # centres) and its accounts.
  log "[$backend] preparing the demo province $DEMO_MAP (motcua demo)"
  (cd "$work" && "${menv[@]}" "$motcua_bin" demo) >"$work/$backend-demo.log" 2>&1 ||
    die "motcua demo failed on $backend: $(tail -n 5 "$work/$backend-demo.log")"

  # The data set: DOSSIERS dossiers with their histories, through the store's insert path
  # (motcua generate), spread over the past year; then an even sample of their codes.
  local track="$work/track-$backend"
  : >"$track.list"
  if [ "$DOSSIERS" -gt 0 ]; then
    log "[$backend] generating $(num "$DOSSIERS") dossiers (motcua generate)"
    local g0 g_secs
    g0=$(now_ms)
    (cd "$work" && "${menv[@]}" "$motcua_bin" generate --dossiers "$DOSSIERS" --years "$YEARS") >"$work/$backend-generate.log" 2>&1 ||
      die "motcua generate failed on $backend: $(tail -n 5 "$work/$backend-generate.log")"
    g_secs=$(awk -v a="$(now_ms)" -v b="$g0" 'BEGIN { printf "%.1f", (a - b) / 1000 }')
    note "[$backend] data set: $(num "$DOSSIERS") dossiers generated in $g_secs s ($(awk -v n="$DOSSIERS" -v s="$g_secs" 'BEGIN { printf "%.0f", n / s }') dossiers/s with their histories: $(tail -n 1 "$work/$backend-generate.log"))."
    if [ "$backend" = postgres ]; then
      # After a bulk load, as an operator would (autovacuum would otherwise run during the
      # workloads): visibility map and planner statistics for the million new rows.
      log "[$backend] VACUUM ANALYZE after the load"
      local v0; v0=$(now_ms)
      psql_run -d motcua_bench -c "VACUUM ANALYZE" >"$work/vacuum.log" 2>&1 || die "VACUUM ANALYZE failed: $(tail -n 3 "$work/vacuum.log")"
      note "[$backend] VACUUM ANALYZE after the load took $(awk -v a="$(now_ms)" -v b="$v0" 'BEGIN { printf "%.1f", (a - b) / 1000 }') s."
    fi
    # Only `code,secret` lines: the server's log (a slow-statement warning, say) may share stdout.
    (cd "$work" && "${menv[@]}" "$motcua_bin" sample-codes --limit "$TRACK_SAMPLE") 2>>"$work/$backend-generate.log" |
      grep -E '^[0-9A-Z.]+-[0-9]{6}-[0-9]{4},[A-Z0-9]+$' | tr ',' '\t' >"$track.sample" || die "motcua sample-codes failed on $backend"
    # Another, larger sample for the uncached tracking run, without the codes above.
    (cd "$work" && "${menv[@]}" "$motcua_bin" sample-codes --limit $((TRACK_SAMPLE * 6))) 2>>"$work/$backend-generate.log" |
      grep -E '^[0-9A-Z.]+-[0-9]{6}-[0-9]{4},[A-Z0-9]+$' | tr ',' '\t' | grep -vxFf "$track.sample" >"$track.cold" || true
  fi

  # Cold start: launch serve on the prepared data, poll /readyz until it answers 200.
  settle
  log "[$backend] cold start"
  t0=$(now_ms)
  start_bg "$backend-serve" bash -c 'cd "$1" && shift && exec "$@"' _ "$work" "${menv[@]}" "$motcua_bin" serve
  pid=$bg_pid
  wait_200 "$base/readyz" "$pid" 60 || die "motcua serve did not become ready on $backend: $(tail -n 5 "$work/$backend-serve.log")"
  t_ready=$(now_ms)
  cold=$((t_ready - t0))
  first=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$base/api/v1/procedures?q=ho%20tich" || true)
  local verdict=FAIL; le "$cold" "$COLD_MS" && verdict=PASS
  local cold_row
  cold_row=$'6\t'"| Cold start: launch to first 200 on \`/readyz\` | $backend | $(num "$cold") ms | | | ≤ $(num $COLD_MS) ms | | $verdict |"
  note "[$backend] after ready, the first search answered ${first%% *} in $(awk -v s="${first##* }" 'BEGIN { printf "%.1f ms", s * 1000 }')."

  # W3: catalogue search.
  status=$(http_status "$base/api/v1/procedures?q=giay%20phep%20xay%20dung")
  settle
  if ! want 3; then
    :
  elif [ "$status" = 200 ]; then
    log "[$backend] W3 catalogue search, ${WARMUP}s warm-up + ${DURATION}s"
    run_wrk "w3-$backend" "$base" "$WARMUP" rotate.lua BENCH_PATH_PREFIX="/api/v1/procedures?q="
    local r p99
    r=$(jnum "w3-$backend" ok_rps); p99=$(jnum "w3-$backend" p99_ms)
    verdict=FAIL
    if ge "$r" $W3_RATE && le "$p99" $W3_P99 && [ "$(jnum "w3-$backend" err_status)" = 0 ] && [ "$(jnum "w3-$backend" err_timeout)" = 0 ]; then verdict=PASS; fi
    row 3 "W3 catalogue search \`GET /api/v1/procedures?q=…\`" "$backend" "$(num "$r") req/s" "$(ms "$(jnum "w3-$backend" p50_ms)")" "$(ms "$p99")" "$w3_target" "$(pct "$r" "$http_floor")% of HTTP floor (no target)" "$verdict"
    e=$(wrk_errors "w3-$backend"); [ -z "$e" ] || note "[$backend] W3 $e."
  else
    row 3 "W3 catalogue search" "$backend" "" "" "" "$w3_target" "" "error: search answered $status"
  fi

  # W1: intake, as the counter officer.
  local w1_ok=0
  status=$(curl -s -D "$work/login-$backend.headers" -o "$work/login-$backend.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "{\"username\":\"$COUNTER_USER\",\"password\":\"motcua-demo-2019\"}" \
    "$base/api/v1/auth/login" || true)
  local session csrf
  session=$(tr -d '\r' <"$work/login-$backend.headers" | sed -n 's/^[Ss]et-[Cc]ookie: *motcua_session=\([^;]*\).*/\1/p' | head -n 1)
  csrf=$(jq -r '.csrf_token // empty' "$work/login-$backend.json" 2>/dev/null || true)
  # The body: lua/dossier.json with, as its checklist, the documents the procedure requires
  # (at the counter the endpoint refuses an incomplete dossier with 400).
  local body="$work/dossier-$backend.json" procedure docs docs_from="as in bench/lua/dossier.json: the procedure's required documents could not be read"
  procedure=$(jq -r .procedure "$here/lua/dossier.json")
  docs=$(curl -s "$base/api/v1/procedures/$procedure" | jq -c '[.content.documents | to_entries[] | select(.value.required)
    | {index: .key, originals: .value.originals, copies: .value.copies}]' 2>/dev/null || true)
  if [ -n "$docs" ] && [ "$docs" != "[]" ]; then
    jq -c --argjson d "$docs" '.documents = $d' "$here/lua/dossier.json" >"$body"
    docs_from="the documents the procedure requires"
  else
    jq -c . "$here/lua/dossier.json" >"$body"
  fi
  if [ "$status" != 200 ] || [ -z "$session" ] || [ -z "$csrf" ]; then
    row 1 "W1 intake \`POST /api/v1/dossiers\`" "$backend" "" "" "" "$w1_target" "" "error: login as $COUNTER_USER answered $status"
  else
    status=$(curl -s -o "$work/w1-probe-$backend.json" -w '%{http_code}' -X POST \
      -H "Cookie: motcua_session=$session" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
      --data-binary @"$body" "$base/api/v1/dossiers" || true)
    case "$status" in
      201)
        w1_ok=1
        local code secret
        code=$(jq -r '.code // empty' "$work/w1-probe-$backend.json" 2>/dev/null || true)
        secret=$(jq -r '.tracking_secret // empty' "$work/w1-probe-$backend.json" 2>/dev/null || true)
        [ -z "$code" ] || [ -z "$secret" ] || printf '%s\t%s\n' "$code" "$secret" >>"$track.list"
        ;;
      404) row 1 "W1 intake \`POST /api/v1/dossiers\`" "$backend" "" "" "" "$w1_target" "" "not available (endpoint answers 404)" ;;
      405) row 1 "W1 intake \`POST /api/v1/dossiers\`" "$backend" "" "" "" "$w1_target" "" "not available (endpoint answers 405)" ;;
      *) row 1 "W1 intake \`POST /api/v1/dossiers\`" "$backend" "" "" "" "$w1_target" "" "error: probe answered $status: $(head -c 160 "$work/w1-probe-$backend.json" | tr '\n|' '  ')" ;;
    esac
  fi
  # W1's counter officer and bodies: an officer for the whole province (made through the
  # admin API, as an administrator would), who may receive every procedure, filing
  # procedures that their own departments receive, one per department: the intakes spread
  # over several agencies' daily code sequences (9,999 codes each per day) and leave the
  # centre's to W5. Without it, W1 files as the centre's counter officer.
  local w1_session=$session w1_csrf=$csrf w1_bodies=$body w1_who="$COUNTER_USER (the centre's counter officer)"
  if [ "$w1_ok" = 1 ]; then
    local officer
    if officer=$(province_officer "$backend") && [ -n "$officer" ]; then
      read -r w1_session w1_csrf <<<"$officer"
      department_bodies "$backend" >"$work/w1-candidates-$backend.jsonl" || true
      # Each body filed once first: W1 keeps those the endpoint accepts (201).
      local line
      : >"$work/w1-bodies-$backend.jsonl"
      while IFS= read -r line; do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Cookie: motcua_session=$w1_session" \
          -H "X-CSRF-Token: $w1_csrf" -H 'Content-Type: application/json' --data-binary "$line" \
          "$base/api/v1/dossiers" || true)" = 201 ]; then
          printf '%s\n' "$line" >>"$work/w1-bodies-$backend.jsonl"
        fi
      done <"$work/w1-candidates-$backend.jsonl"
      if [ -s "$work/w1-bodies-$backend.jsonl" ]; then
        w1_bodies="$work/w1-bodies-$backend.jsonl"
        w1_who="a counter officer of the whole province, over $(wc -l <"$w1_bodies") procedures of as many departments"
      else
        w1_session=$session; w1_csrf=$csrf
        note "[$backend] W1: no procedure received by a department could be filed; W1 files at the centre."
      fi
    else
      note "[$backend] W1: the province-wide counter officer could not be made ($(head -c 200 "$work/officer-$backend.log" | tr '\n|' '  ')); W1 files at the centre."
    fi
  fi

  # W1's measured run: w1_run NAME SORTKEY LABEL TAG; NAME names its output files, TAG
  # starts its notes. The dossiers it creates join the tracking list.
  w1_run() {
    local name=$1 key=$2 label=$3 tag=$4
    log "[$backend] $label, ${W1_WARMUP}s warm-up + ${DURATION}s"
    local b0 b1
    b0=$(write_batches "$base")
    run_wrk "$name" "$base/api/v1/dossiers" "$W1_WARMUP" intake.lua BENCH_SESSION="$w1_session" BENCH_CSRF="$w1_csrf" \
      BENCH_BODY_FILE="$w1_bodies" BENCH_TRACK_OUT="$track"
    b1=$(write_batches "$base")
    local r p99 floor_value ratio target
    r=$(jnum "$name" created_per_s); p99=$(jnum "$name" p99_ms)
    verdict=FAIL
    # The ratio is the group commit's commits per second against the floor's (both are
    # durable commits on the same disk); issue 9's "≥ 20% of the SQLite floor" compared
    # dossiers/s with rows/s, and a dossier is many rows, so it could never hold (issue 28).
    local commits jobs floor_commits
    commits=$(( ${b1% *} - ${b0% *} )); jobs=$(( ${b1#* } - ${b0#* } ))
    local commit_rate; commit_rate=$(awk -v c="$commits" -v s=$((W1_WARMUP + DURATION)) 'BEGIN { printf "%.0f", c / s }')
    if [ "$backend" = sqlite ]; then
      floor_commits=$(jnum floor-sqlite commits_per_sec)
      ratio="$(pct "$commit_rate" "$floor_commits")% of SQLite floor's commits/s (no target)"
    else
      floor_commits=$pg_floor
      ratio="$(pct "$commit_rate" "$floor_commits")% of PostgreSQL floor's commits/s (no target)"
    fi
    target=$w1_target
    if ge "$r" $W1_RATE && le "$p99" $W1_P99; then verdict=PASS; fi
    local others; others=$(jstr "$name" other_statuses)
    # Statuses other than 201 before the code sequence ran out are failures.
    if [ -n "$(echo "$others" | tr ' ' '\n' | grep -v '^409x' | grep . || true)" ]; then verdict="FAIL (non-201 answers)"; fi
    row "$key" "$label" "$backend" "$(num "$r") created/s" "$(ms "$(jnum "$name" p50_ms)")" "$(ms "$p99")" "$target" "$ratio" "$verdict"
    # The floor counts rows in batches of $SQLITE_BATCH (SQLite) or one-row transactions
    # (PostgreSQL); a dossier is many rows, committed in batches of dossiers: the note
    # gives the server's commits and their size beside the floor's commit rate.
    note "[$backend] $tag: the group commit made $(num "$commits") commits of $(num "$jobs") writes during the warm-up and run (${commit_rate}/s, $(awk -v c="$commits" -v j="$jobs" 'BEGIN { if (c > 0) printf "%.1f", j / c; else printf "0" }') writes a commit); the floor made $(num "$floor_commits") commits/s. The ratio column compares the two commit rates: each is a durable commit (fsync) on the same disk, the server's carrying a batch of dossiers of many rows each."
    note "[$backend] $tag files as $w1_who: $(jq -sc 'map(.procedure)' "$w1_bodies"), each with its required documents, the applicant of bench/lua/dossier.json."
    note "[$backend] $tag created $(num "$(jnum "$name" created)") dossiers in $(jnum "$name" created_window_s) s (after the warm-up's)${others:+; other answers (status x count): $others}."
    if [ "$(jnum "$name" capped_threads)" -gt 0 ]; then
      note "[$backend] $tag stopped early: $(jnum "$name" capped_threads) of $THREADS wrk threads stopped at their first 409, which the endpoint answers once the receiving agency's 4-digit daily code sequence runs out (9,999 dossiers a day); the rate covers the dossiers created until then."
    fi
    cat "$track".[0-9]* 2>/dev/null >>"$track.list" || true
  }
  settle
  if [ "$w1_ok" = 1 ] && want 1; then
    w1_run "w1-$backend" 1 "W1 intake \`POST /api/v1/dossiers\`" W1
  fi

  # W2: public tracking, rotating over the sample of the generated dossiers (or, with no
  # data set, over the dossiers W1 created). Tracking answers are cached in the server
  # (crates/server/src/tracking_cache.rs): after the warm-up the sample is cached, as a
  # citizen's repeated look-ups are; the uncached run below measures first look-ups.
  local list="$track.sample" n over
  [ -s "$list" ] || { sort -u "$track.list" >"$track.uniq"; list="$track.uniq"; }
  n=$(wc -l <"$list")
  over="$(num "$n") codes spread over $(num "$DOSSIERS") generated dossiers"
  [ "$list" = "$track.sample" ] || over="$(num "$n") dossiers created by W1 (no generated data set)"
  settle
  if ! want 2; then
    :
  elif [ "$n" -gt 0 ]; then
    local c s
    IFS=$'\t' read -r c s <"$list"
    status=$(http_status "$base/api/v1/track/$c?secret=$(jq -rn --arg s "$s" '$s | @uri')")
    if [ "$status" = 200 ]; then
      log "[$backend] W2 tracking over $over, ${W2_WARMUP}s warm-up + ${DURATION}s"
      run_wrk "w2-$backend" "$base" "$W2_WARMUP" track.lua BENCH_TRACK_LIST="$list"
      local r p99
      r=$(jnum "w2-$backend" ok_rps); p99=$(jnum "w2-$backend" p99_ms)
      verdict=FAIL
      if ge "$r" $W2_RATE && le "$p99" $W2_P99 && share_ge "$r" "$http_floor" $W2_FLOOR_PCT && [ "$(jnum "w2-$backend" err_status)" = 0 ]; then verdict=PASS; fi
      row 2 "W2 tracking \`GET /api/v1/track/{code}\`" "$backend" "$(num "$r") req/s" "$(ms "$(jnum "w2-$backend" p50_ms)")" "$(ms "$p99")" "$w2_target" "$(pct "$r" "$http_floor")% of HTTP floor (target ≥ $W2_FLOOR_PCT%)" "$verdict, rotating over $over"
      e=$(wrk_errors "w2-$backend"); [ -z "$e" ] || note "[$backend] W2 $e."
      if [ -s "$track.cold" ]; then
        log "[$backend] W2 uncached: first look-ups over $(num "$(wc -l <"$track.cold")") other codes, ${DURATION}s"
        run_wrk "w2cold-$backend" "$base" 0 track.lua BENCH_TRACK_LIST="$track.cold"
        r=$(jnum "w2cold-$backend" ok_rps)
        row 2 "W2' tracking, first look-ups (not cached)" "$backend" "$(num "$r") req/s" "$(ms "$(jnum "w2cold-$backend" p50_ms)")" "$(ms "$(jnum "w2cold-$backend" p99_ms)")" "(no target)" "$(pct "$r" "$http_floor")% of HTTP floor" "info: $(num "$(jnum "w2cold-$backend" requests)") look-ups over $(num "$(wc -l <"$track.cold")") codes, each at most once unless the run wraps"
        e=$(wrk_errors "w2cold-$backend"); [ -z "$e" ] || note "[$backend] W2' $e."
      fi
    else
      row 2 "W2 tracking \`GET /api/v1/track/{code}\`" "$backend" "" "" "" "$w2_target" "" "not available (endpoint answers $status)"
    fi
  else
    status=$(http_status "$base/api/v1/track/000.00.16.H43-190101-0001?secret=x")
    row 2 "W2 tracking \`GET /api/v1/track/{code}\`" "$backend" "" "" "" "$w2_target" "" "not available (no dossiers: W1 not available; track endpoint answers $status)"
  fi

  # W4: the director's dashboard for the last twelve months (the figures per department
  # from the maintained counters, the trend, the channel mix and the overdue dossiers by
  # age), as the director, one request at a time: the target is a latency.
  local w4_path w4_session w4_status
  w4_path="/lanh-dao?period=khoang&from=$(date -d '-364 days' +%F)&to=$(date +%F)"
  w4_status=$(curl -s -D "$work/w4-login-$backend.headers" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "{\"username\":\"$DIRECTOR_USER\",\"password\":\"motcua-demo-2019\"}" \
    "$base/api/v1/auth/login" || true)
  w4_session=$(tr -d '\r' <"$work/w4-login-$backend.headers" | sed -n 's/^[Ss]et-[Cc]ookie: *motcua_session=\([^;]*\).*/\1/p' | head -n 1)
  settle
  if ! want 4; then
    :
  elif [ "$w4_status" = 200 ] && [ -n "$w4_session" ] &&
    [ "$(curl -s -o "$work/w4-page-$backend.html" -w '%{http_code}' -H "Cookie: motcua_session=$w4_session" "$base$w4_path")" = 200 ]; then
    log "[$backend] W4 director's dashboard (12 months), 1 connection, ${DURATION}s"
    env BENCH_LUA_DIR="$here/lua" BENCH_SESSION="$w4_session" BENCH_PATH="$w4_path" \
      wrk -t1 -c1 --timeout 10s -d"${DURATION}s" --latency -s "$here/lua/page.lua" "$base" \
      >"$work/wrk-w4-$backend.txt" 2>&1 || die "wrk run of W4 failed: $(tail -n 3 "$work/wrk-w4-$backend.txt")"
    grep '^BENCH_RESULT ' "$work/wrk-w4-$backend.txt" | tail -n 1 | sed 's/^BENCH_RESULT //' >"$work/w4-$backend.json"
    local p50_4
    p50_4=$(jnum "w4-$backend" p50_ms)
    verdict=FAIL
    if le "$p50_4" $W4_P50 && [ "$(jnum "w4-$backend" err_status)" = 0 ]; then verdict=PASS; fi
    row 4 "W4 director's dashboard \`GET /lanh-dao\`, last 12 months" "$backend" "$(num "$(jnum "w4-$backend" rps)") pages/s" "$(ms "$p50_4")" "$(ms "$(jnum "w4-$backend" p99_ms)")" "p50 ≤ $W4_P50 ms" "$(pct "$(jnum "w4-$backend" rps)" "$http_floor")% of HTTP floor (one connection; no target)" "$verdict; the whole page (figures per department, trend, channel mix, overdue by age) over $(num "$DOSSIERS") generated dossiers, one connection"
  else
    row 4 "W4 director's dashboard" "$backend" "" "" "" "p50 ≤ $W4_P50 ms" "" "error: login as $DIRECTOR_USER or the page answered $w4_status"
  fi

  # Memory after W1–W4.
  local rss hwm
  rss=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  hwm=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  verdict=FAIL; le "$rss" $RSS_MB && verdict=PASS
  work_rows+=("$cold_row")
  if [ "$WORKLOADS" = "$ALL_WORKLOADS" ]; then
    row 7 "Memory: server VmRSS after W1–W4" "$backend" "$rss MB (peak $hwm MB)" "" "" "≤ $RSS_MB MB" "" "$verdict"
  fi

  # W5: receipts (form 01) drawn on demand, with intake still served: the counter officer
  # downloads the receipts of generated dossiers (none stored yet, so each is a first
  # render) on W5_CONNECTIONS connections while two more connections keep filing dossiers.
  # It runs after the memory reading (the target is memory after W1–W4).
  # w5_run NAME SORTKEY LABEL CODES TAG: CODES lists the dossiers whose receipts are asked
  # for; TAG starts the notes.
  w5_run() {
    local name=$1 key=$2 label=$3 codes=$4 tag=$5
    log "[$backend] $label on $W5_CONNECTIONS connections + intake on 2, ${DURATION}s"
    local w5cmd=(env BENCH_LUA_DIR="$here/lua" BENCH_SESSION="$session" BENCH_CSRF="$csrf")
    "${w5cmd[@]}" BENCH_BODY_FILE="$body" BENCH_TRACK_OUT="$work/$name-intake" \
      wrk -t1 -c2 --timeout 5s -d"${DURATION}s" --latency -s "$here/lua/intake.lua" "$base/api/v1/dossiers" \
      >"$work/wrk-$name-intake.txt" 2>&1 &
    local intake_pid=$!
    "${w5cmd[@]}" BENCH_TRACK_LIST="$codes" \
      wrk -t1 -c"$W5_CONNECTIONS" --timeout 10s -d"${DURATION}s" --latency -s "$here/lua/receipt.lua" "$base" \
      >"$work/wrk-$name.txt" 2>&1 || die "wrk run of $name failed: $(tail -n 3 "$work/wrk-$name.txt")"
    wait "$intake_pid" || true
    grep '^BENCH_RESULT ' "$work/wrk-$name.txt" | tail -n 1 | sed 's/^BENCH_RESULT //' >"$work/$name.json"
    grep '^BENCH_RESULT ' "$work/wrk-$name-intake.txt" | tail -n 1 | sed 's/^BENCH_RESULT //' >"$work/$name-intake.json"
    local r5 i5
    r5=$(jnum "$name" ok_rps); i5=$(jnum "$name-intake" created_per_s)
    verdict=FAIL
    if ge "$r5" $W5_RATE && [ "${i5:-0}" != 0 ]; then verdict=PASS; fi
    row "$key" "$label" "$backend" "$(num "$r5") PDFs/s" "$(ms "$(jnum "$name" p50_ms)")" "$(ms "$(jnum "$name" p99_ms)")" "≥ $W5_RATE/s with intake served" "$(pct "$r5" "$http_floor")% of HTTP floor (no target)" "$verdict; meanwhile intake on 2 connections: $(num "${i5:-0}") created/s, p99 $(ms "$(jnum "$name-intake" p99_ms)")"
    local nf; nf=$(jnum "$name" err_status)
    [ "${nf:-0}" = 0 ] || note "[$backend] $tag: $(num "$nf") answers were 404 (generated dossiers not yet accepted have no receipt); they are left out of the rate."
  }
  local w5_label="W5 receipt PDF \`GET …/forms/receipt.pdf\`, first renders"
  settle
  if ! want 5; then
    :
  elif [ -s "$track.cold" ] && [ "$w1_ok" = 1 ]; then
    w5_run "w5-$backend" 5 "$w5_label" "$track.cold" W5
  else
    row 5 "W5 receipt PDF" "$backend" "" "" "" "≥ $W5_RATE/s with intake served" "" "not run (needs the generated data set and W1)"
  fi

  # With BENCH_SIGN=1, W1 and W5 again on the same data with every form signed (issue 22):
  # the server restarts with a signing key for every agency on a SoftHSM2 token (sign_setup)
  # and measures intake while the form queue signs the new dossiers' receipts, then signed
  # receipts drawn on demand, from the other end of the list of cold codes (receipts W5
  # did not draw). The answers are checked with poppler's pdfsig.
  settle
  if [ "$SIGN" = 1 ] && [ "$w1_ok" = 1 ] && { want 1 || want 5; }; then
    sign_setup
    stop_pid "$pid"
    start_bg "$backend-serve-signing" bash -c 'cd "$1" && shift && exec "$@"' _ "$work/sign" \
      "${menv[@]}" SOFTHSM2_CONF="$work/sign/softhsm2.conf" BENCH_SIGN_PIN="$SIGN_PIN" "$motcua_bin" serve
    pid=$bg_pid
    wait_200 "$base/readyz" "$pid" 60 ||
      die "motcua serve with signing did not become ready on $backend: $(tail -n 5 "$work/$backend-serve-signing.log")"
    local signed0 signed1 check
    if want 1; then
      signed0=$(signatures_made "$base")
      w1_run "w1s-$backend" 1s "W1 intake, every form signed (form queue)" "W1 (signing)"
      signed1=$(signatures_made "$base")
      note "[$backend] W1 (signing): the form queue signed $(num $((signed1 - signed0))) documents during the warm-up and run ($(awk -v n=$((signed1 - signed0)) -v s=$((W1_WARMUP + DURATION)) 'BEGIN { printf "%.0f", n / s }')/s at the lowest priority, beside intake); the rest wait in its queue or are drawn and signed at their first download."
    fi
    if want 5 && [ -s "$track.cold" ]; then
      tac "$track.cold" >"$track.cold-signed"
      signed0=$(signatures_made "$base")
      w5_run "w5s-$backend" 5s "W5 receipt PDF, signed at the first render" "$track.cold-signed" "W5 (signing)"
      signed1=$(signatures_made "$base")
      # The first three receipts of the run that exist (accepted dossiers), fetched again
      # (now stored), through pdfsig: "valid/fetched".
      local fetched=0 valid=0 c
      while IFS=$'\t' read -r c _ && [ "$fetched" -lt 3 ]; do
        [ "$(curl -s -H "Cookie: motcua_session=$session" -o "$work/signed-check.pdf" -w '%{http_code}' \
          "$base/api/v1/dossiers/$c/forms/receipt.pdf" || true)" = 200 ] || continue
        fetched=$((fetched + 1))
        if pdfsig "$work/signed-check.pdf" 2>&1 | grep -q 'Signature Validation: Signature is Valid'; then
          valid=$((valid + 1))
        fi
      done < <(head -n 50 "$track.cold-signed")
      check="$valid of $fetched"
      note "[$backend] W5 (signing): $(num $((signed1 - signed0))) signatures made during the run (receipts and the queue's forms of the 2 intake connections); $check of the run's first receipts, fetched again, carry a signature that pdfsig validates (signed by the run's own CA, so untrusted to pdfsig, as expected)."
    fi
  fi

  # W6: the counter queue. Runs last: it reshapes the demo centre (calendar open all day,
  # 50 counters serving every group). The load generator (bench/queue) shares the cores
  # with the server, as wrk does.
  settle
  if ! want 6; then
    :
  elif log "[$backend] W6 queue: $W6_STREAMS streams, takes and calls at $W6_RATE/s, ${DURATION}s" &&
    BENCH_W6_RATE=$W6_RATE BENCH_W6_BOARDS=$W6_BOARDS BENCH_W6_PHONES=$((W6_STREAMS - W6_BOARDS)) \
    BENCH_W6_DURATION=$DURATION BENCH_W6_WARMUP=$WARMUP \
    "$queue_bin" "$base" "$work/w6-$backend.json" >"$work/w6-$backend.log" 2>&1; then
    local c6 e6 errs6
    c6=$(jnum "w6-$backend" call_p99_ms); e6=$(jnum "w6-$backend" event_p99_ms)
    errs6=$(( $(jnum "w6-$backend" errors) + $(jnum "w6-$backend" stream_errors) ))
    verdict=FAIL
    if le "$c6" $W6_CALL_P99 && le "$e6" $W6_EVENT_P99 && [ "$errs6" = 0 ]; then verdict=PASS; fi
    row 5w "W6 queue: calls \`POST …/call\` and takes at $W6_RATE/s, $W6_STREAMS event streams, 50 counters" "$backend" "$(num "$(jnum "w6-$backend" calls_measured)") calls" "$(ms "$(jnum "w6-$backend" call_p50_ms)")" "$(ms "$c6")" "call p99 ≤ $W6_CALL_P99 ms; call → event p99 ≤ $W6_EVENT_P99 ms" "call p50 $(awk -v a="$(jnum "w6-$backend" call_p50_ms)" -v b="$(jnum floor-http p50_ms)" 'BEGIN { if (b > 0) printf "%.0f", a / b; else printf "?" }')× the HTTP floor's p50 (fixed rate; no target)" "$verdict; call → event p50 $(ms "$(jnum "w6-$backend" event_p50_ms)"), p99 $(ms "$e6") over $(num "$(jnum "w6-$backend" events_measured)") deliveries; $errs6 errors"
  else
    row 5w "W6 queue" "$backend" "" "" "" "call p99 ≤ $W6_CALL_P99 ms; call → event p99 ≤ $W6_EVENT_P99 ms" "" "error: $(tail -n 2 "$work/w6-$backend.log" | tr '\n' ' ')"
  fi

  note "[$backend] memory after W5 too: VmRSS $(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status") MB (peak $(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status") MB)."
  stop_pid "$pid"
}

for b in "${backends[@]}"; do server_workloads "$b"; done

# ---------------------------------------------------------------- report
total_secs=$(($(date +%s) - t_start))
report="$work/report.md"
{
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') · commit \`$commit\`$dirty"
  echo
  echo "Machine: $cores cores, $cpu, $mem_gib GiB RAM, Linux $(uname -r). Backends: ${backends[*]}."
  echo "Settings: ${DURATION}s measured per run after ${WARMUP}s warm-up (W1: ${W1_WARMUP}s, W2: ${W2_WARMUP}s), wrk $THREADS threads × $CONNECTIONS connections on loopback, wrk and the server sharing the machine's $cores cores. Demo: $DEMO_MAP.$([ "$YEARS" = 1 ] || echo " Generated dossiers spread over $YEARS years.")$([ "$WORKLOADS" = "$ALL_WORKLOADS" ] || echo " Workloads run: $WORKLOADS (the others were not).")"
  echo "Run time: $((total_secs / 60)) min $((total_secs % 60)) s, of which building $((build_secs / 60)) min $((build_secs % 60)) s."
  echo "Load average (1, 5, 15 min) when measuring started: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| Floor | Measured | p50 | p99 | How |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${floor_rows[@]}"
  echo
  echo "| Workload | Backend | Measured | p50 | p99 | Target | Ratio to floor | Result |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${work_rows[@]}" | sort -s -t $'\t' -k 1,1 | cut -f 2-
  if [ "${#notes[@]}" -gt 0 ]; then
    echo
    for n in "${notes[@]}"; do echo "- $n"; done
  fi
  echo
} >"$report"

cat "$report"
if [ "$RECORD" = 1 ]; then
  if [ ! -s "$RESULTS" ]; then
    cat >"$RESULTS" <<'EOF'
# Benchmark results

`bench/run.sh` appends one section per run, newest last (see `bench/README.md`). The
floors in a section were measured in the same run, on the same machine, as its workloads:
compare ratios across runs, and absolute figures only between runs on the same machine.

Floors table: **Measured** is the floor's rate (req/s for HTTP, rows/s for the inserts);
**p50/p99** are wrk's latency percentiles where the floor is an HTTP one; **How** says what
was run.

Workloads table:

- **Workload**: what was driven, and through which endpoint.
- **Backend**: `sqlite` (the embedded default) or `postgres` (a temporary PostgreSQL server
  started by the run, `synchronous_commit=on`).
- **Measured**: successful requests per second over the measured window (W1: dossiers
  created, `201`, per second); for cold start the milliseconds from launching `motcua
  serve` on a prepared data directory to the first `200` from `/readyz`; for memory the
  server's resident set (`VmRSS`) after all workloads, with its peak (`VmHWM`).
- **p50 / p99**: latency percentiles from wrk (`--latency`), over every request of the run.
- **Target**: the issue's target for that figure.
- **Ratio to floor**: the figure as a share of the floor from the same run, where the issue
  sets one (W2: ≥ 45% of the HTTP floor); shown for information, marked "no target",
  elsewhere: W1's commits/s against the database floor's commits/s, W3–W5's rate against
  the HTTP floor's, W6's call p50 as a multiple of the HTTP floor's p50 (W6 runs at a fixed
  rate, so its rate says nothing).
- **Result**: `PASS` when every target of the row holds, `FAIL` otherwise; `not available
  (endpoint answers 404)` when the endpoint is not there yet; `not built yet` for workloads
  whose feature does not exist. Notes under the table give the details (errors, dossier
  counts, early stops).
EOF
  fi
  { echo; cat "$report"; } >>"$RESULTS"
  log "appended to $RESULTS"
fi
log "done in $((total_secs / 60)) min $((total_secs % 60)) s"
