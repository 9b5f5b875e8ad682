#!/usr/bin/env bash
# Ingest benchmark (issue: foundation). Measures, in one run over the same generated files:
#   1. the decode+parse limit: gunzip (ISA-L) + full simdjson parse, nothing else (bench/decode_limit)
#   2. cairn ingest into a null sink (read path only)
#   3. cairn ingest into the store (every index on)
#   4. peak RSS of cairn ingest reading one 500 MB uncompressed file
# Usage: bench/ingest.sh [EVENTS] [THREADS]     (defaults 2000000 2)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-2000000}
THREADS=${2:-2}
B=${BUILD:-build}
CAIRN=$B/src/cli/cairn
WORK=${BENCH_DIR:-/tmp/cairn-bench}
mkdir -p "$WORK"
LOGS=$WORK/gen-$EVENTS
if [ ! -d "$LOGS" ]; then
  "$CAIRN" generate --out "$LOGS" --events "$EVENTS" --seed 1 --days 1 >&2
fi
mapfile -t FILES < <(find "$LOGS/AWSLogs" -name '*.json.gz' | sort)
GZ_BYTES=$(du -cb "${FILES[@]}" | tail -1 | cut -f1)
echo "files: ${#FILES[@]}  events: $EVENTS  gz bytes: $GZ_BYTES  threads: $THREADS  cores: $(nproc)"

# Warm the page cache so every contender reads from memory.
cat "${FILES[@]}" > /dev/null

limit=$("$B/bench/decode_limit" "$THREADS" "${FILES[@]}")
echo "decode_limit: $limit"
null=$("$CAIRN" --log-level warn ingest --no-progress --sink null --threads "$THREADS" --format json "$LOGS/AWSLogs")
echo "ingest --sink null: $null"
rm -rf "$WORK/data"
store=$(/usr/bin/time -f '%M' -o "$WORK/rss.txt" "$CAIRN" --log-level warn --data "$WORK/data" ingest --no-progress --threads "$THREADS" --format json "$LOGS/AWSLogs")
echo "ingest into store: $store  peak_rss_kb: $(cat "$WORK/rss.txt")"
STORE_BYTES=$(du -sb "$WORK/data" | cut -f1)
echo "store bytes: $STORE_BYTES  ratio to .json.gz: $(awk -v a="$STORE_BYTES" -v b="$GZ_BYTES" 'BEGIN{printf "%.3f", a/b}')"

BIG=$WORK/big-500mb.json
if [ ! -f "$BIG" ]; then
  "$B/bench/make_big_file" "$BIG" 500000000 "${FILES[@]:0:20}" >&2
fi
rm -rf "$WORK/data-big"
big=$(/usr/bin/time -f '%M' -o "$WORK/rss-big.txt" "$CAIRN" --log-level warn --data "$WORK/data-big" ingest --no-progress --format json "$BIG")
echo "one 500 MB file into store: $big  peak_rss_kb: $(cat "$WORK/rss-big.txt")"
big_null=$(/usr/bin/time -f '%M' -o "$WORK/rss-big-null.txt" "$CAIRN" --log-level warn ingest --no-progress --sink null --format json "$BIG")
echo "one 500 MB file, null sink: $big_null  peak_rss_kb: $(cat "$WORK/rss-big-null.txt")"
