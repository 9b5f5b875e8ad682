#!/usr/bin/env bash
# Store benchmark (issue 3): cairn ingest with every index on, against DuckDB and embedded
# ClickHouse (chdb) loading the same generated files in the same run.
#   - cairn: ingest throughput, peak RSS (/usr/bin/time %M), bytes on disk / source .json.gz bytes;
#     merge throughput from store_bench --gz-dir (commits without background merges, then merges);
#   - DuckDB: CREATE TABLE AS SELECT over read_json of the .json.gz files (bench/peers/peers.mjs),
#     database file size and load time;
#   - chdb: MergeTree table filled from file(..., JSONAsString) of the same files, folder size and
#     load time.
# Usage: bench/store.sh [EVENTS]   (default 2000000; the issue's size is 10000000)
# Env: BUILD (default build), BENCH_DIR (default /tmp/cairn-bench), SKIP_MERGE=1, PEER_CHUNKED=1
# (DuckDB loads one account/region folder at a time, then sorts: needed at 10M on 24 GB),
# PROFILE=default|wide (cairn generate --profile; docs/generator.md), DAYS (default 1, or 21 for
# the wide profile), PEER_LOAD_TIMEOUT (seconds per peer load, default 1800: a load that takes longer
# is stopped, reported and its database removed; the run goes on). The default profile's files are gen-EVENTS, stores store-cairn-EVENTS...;
# another profile's carry its name: gen-wide-EVENTS, store-cairn-wide-EVENTS, peer-duckdb-wide-...
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${1:-2000000}
B=${BUILD:-build}
CAIRN=$ROOT/$B/src/cli/cairn
WORK=${BENCH_DIR:-/tmp/cairn-bench}
PROFILE=${PROFILE:-default}
if [ "$PROFILE" = default ]; then TAG=$EVENTS; DAYS=${DAYS:-1}; else TAG=$PROFILE-$EVENTS; DAYS=${DAYS:-21}; fi
mkdir -p "$WORK"
LOGS=$WORK/gen-$TAG
if [ ! -d "$LOGS/AWSLogs" ]; then
  "$CAIRN" generate --out "$LOGS" --events "$EVENTS" --seed 1 --days "$DAYS" --profile "$PROFILE" >&2
fi
[ -d bench/peers/node_modules/chdb ] || (cd bench/peers && npm install --no-audit --no-fund >&2)
mapfile -t FILES < <(find "$LOGS/AWSLogs" -name '*.json.gz' | sort)
# (through standard input: three weeks of files are more names than one command line holds)
GZ_BYTES=$(printf '%s\0' "${FILES[@]}" | du -cb --files0-from=- | tail -1 | cut -f1)
echo "# PROFILE=$PROFILE DAYS=$DAYS bench/store.sh $EVENTS  ($(date -u +%FT%TZ), $(nproc) cores, uptime:$(uptime | sed 's/.*load/ load/'))"
echo "files: ${#FILES[@]}  events: $EVENTS  gz bytes: $GZ_BYTES"
printf '%s\0' "${FILES[@]}" | xargs -0 cat > /dev/null  # page cache warm for every contender
ratio() { awk -v a="$1" -v b="$GZ_BYTES" 'BEGIN{printf "%.3f", a/b}'; }

D=$WORK/store-cairn-$TAG
rm -rf "$D"
out=$(/usr/bin/time -f '%e %M %U %S' -o "$WORK/time-cairn.txt" "$CAIRN" --log-level warn --data "$D" \
      ingest --no-progress --format json "$LOGS/AWSLogs")
read -r secs rss usr sys < "$WORK/time-cairn.txt"
bytes=$(du -sb "$D" | cut -f1)
echo "uptime after cairn:$(uptime | sed 's/.*load/ load/')"
echo "cairn ingest: ${secs}s wall, $(awk -v n="$EVENTS" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') events/s, $(awk -v u="$usr" -v s="$sys" 'BEGIN{printf "%.1f", u+s}') CPU-s, peak RSS $((rss / 1024)) MB, $bytes bytes on disk, ratio $(ratio "$bytes")"
echo "  summary: $out"

# peer_load ENGINE PATH: loads one peer under PEER_LOAD_TIMEOUT; prints its line of the report.
peer_load() {
  local rc=0 out secs rss bytes
  out=$(/usr/bin/time -f '%e %M' -o "$WORK/time-$1.txt" timeout -k 30 "${PEER_LOAD_TIMEOUT:-1800}" \
        node bench/peers/peers.mjs load "$1" "$2" "$LOGS") || rc=$?
  read -r secs rss < <(tail -1 "$WORK/time-$1.txt")
  if [ $rc -ne 0 ]; then
    echo "$1 load: FAILED (exit $rc$( [ $rc -eq 124 ] && echo ", stopped after ${PEER_LOAD_TIMEOUT:-1800} s")) after ${secs}s wall, peak RSS $((rss / 1024)) MB; database removed"
    rm -rf "$2" "$2.wal"
    return 0
  fi
  bytes=$(du -cb "$2"* | tail -1 | cut -f1)
  echo "$1 load: ${secs}s wall, $(awk -v n="$EVENTS" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') events/s, peak RSS $((rss / 1024)) MB, $bytes bytes, ratio $(ratio "$bytes")  $out"
}
P=$WORK/peer-duckdb-$TAG.duckdb
rm -f "$P" "$P.wal"
peer_load duckdb "$P"
echo "uptime after duckdb:$(uptime | sed 's/.*load/ load/')"
P=$WORK/peer-chdb-$TAG
rm -rf "$P"
peer_load chdb "$P"
echo "uptime after chdb:$(uptime | sed 's/.*load/ load/')"

if [ -z "${SKIP_MERGE:-}" ] && [ -x "$B/src/store/store_bench" ]; then
  echo "store_bench (commit without background merge, then merge):"
  "$B/src/store/store_bench" --gz-dir "$LOGS/AWSLogs" 2>&1 | sed 's/^/  /'
fi
