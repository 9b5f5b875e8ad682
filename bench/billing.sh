#!/usr/bin/env bash
# Billing benchmark (issue 18): rows per second `cairn billing load` stores from a generated Cost
# and Usage Report, against DuckDB loading the same CSV files (read_csv into a table) in the same
# run.
#   1. cairn generate --billing: one month, two assemblies (ROWS/2 rows, then ROWS rows);
#   2. cairn billing load --manifest <assembly 1>   (a first load into an empty index);
#   3. cairn billing load (the period manifest: assembly 2 replaces assembly 1, the measured run);
#   4. DuckDB: CREATE TABLE AS SELECT * FROM read_csv(<assembly 2's files>) into a database file.
# Reports wall time, rows/s, CPU-s (user+sys), peak RSS (/usr/bin/time), bytes on disk ÷ gz bytes.
# Usage: bench/billing.sh [ROWS]   (default 2000000)
# Env: BUILD (default build), BENCH_DIR (default /tmp/cairn-bench), PROFILE=few|many.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${1:-2000000}
B=${BUILD:-build}
CAIRN=$ROOT/$B/src/cli/cairn
WORK=${BENCH_DIR:-/tmp/cairn-bench}
PROFILE=${PROFILE:-few}
TAG=$PROFILE-$ROWS
GEN=$WORK/cur-$TAG
mkdir -p "$WORK"
if [ ! -f "$GEN/done" ]; then
  rm -rf "$GEN"
  "$CAIRN" generate --billing --out "$GEN" --rows "$ROWS" --assemblies 2 --seed 1 --profile "$PROFILE" > "$GEN.txt"
  touch "$GEN/done"
fi
cat "$GEN.txt" >&2
A1=$(grep -o 'manifest \S*' "$GEN.txt" | head -1 | cut -d' ' -f2)
PERIOD_DIR=$(dirname "$(dirname "$GEN/$A1")")
A2_DIR=$(find "$PERIOD_DIR" -mindepth 1 -maxdepth 1 -type d | while read -r d; do
  [ "$GEN/$(dirname "$A1")" = "$d" ] || echo "$d"; done)
GZ_BYTES=$(du -cb "$A2_DIR"/*.csv.gz | tail -1 | cut -f1)
echo "# PROFILE=$PROFILE bench/billing.sh $ROWS  ($(date -u +%FT%TZ), $(nproc) cores, uptime:$(uptime | sed 's/.*load/ load/'))"
echo "assembly 2: $ROWS rows, $(ls "$A2_DIR"/*.csv.gz | wc -l) files, $GZ_BYTES gz bytes"
cat "$GEN"/cur/cairn-cur/*/*/*.csv.gz > /dev/null  # page cache warm

D=$WORK/billing-cairn-$TAG
rm -rf "$D"
T=$(mktemp)
/usr/bin/time -f '%e %U %S %M' -o "$T" "$CAIRN" --log-level warn --data "$D" billing load "$GEN" --manifest "$A1" > /dev/null
read -r W1 U1 S1 M1 < "$T"
echo "cairn first load (assembly 1, $((ROWS / 2)) rows): ${W1} s wall, $(awk -v r=$((ROWS / 2)) -v w="$W1" 'BEGIN{printf "%.0f", r/w}') rows/s, $(awk -v u="$U1" -v s="$S1" 'BEGIN{print u+s}') CPU-s, $((M1 / 1024)) MB peak RSS"
echo "uptime before the measured run:$(uptime | sed 's/.*load/ load/')"
/usr/bin/time -f '%e %U %S %M' -o "$T" "$CAIRN" --log-level warn --data "$D" billing load "$GEN" --prefix cur --report cairn-cur
read -r W2 U2 S2 M2 < "$T"
STORE_BYTES=$(du -cb "$D"/indexes/aws-billing | tail -1 | cut -f1)
echo "cairn replacing load (assembly 2, $ROWS rows): ${W2} s wall, $(awk -v r="$ROWS" -v w="$W2" 'BEGIN{printf "%.0f", r/w}') rows/s, $(awk -v u="$U2" -v s="$S2" 'BEGIN{print u+s}') CPU-s, $((M2 / 1024)) MB peak RSS, index $STORE_BYTES bytes = $(awk -v a="$STORE_BYTES" -v b="$GZ_BYTES" 'BEGIN{printf "%.3f", a/b}') x gz"
"$CAIRN" --data "$D" billing status

P=$WORK/billing-duckdb-$TAG.db
rm -f "$P" "$P.wal"
cat > "$WORK/billing-duckdb.mjs" <<JS
import { DuckDBInstance } from '$ROOT/node_modules/@duckdb/node-api/lib/index.js';
const db = await DuckDBInstance.create(process.argv[2]);
const c = await db.connect();
const t0 = Date.now();
await c.run("CREATE TABLE cur AS SELECT * FROM read_csv('" + process.argv[3] + "/*.csv.gz', header = true)");
const n = (await c.runAndReadAll('SELECT count(*) AS n FROM cur')).getRowObjectsJS()[0].n;
console.log('rows', n, 'ms', Date.now() - t0);
JS
/usr/bin/time -f '%e %U %S %M' -o "$T" node "$WORK/billing-duckdb.mjs" "$P" "$A2_DIR"
read -r W3 U3 S3 M3 < "$T"
echo "DuckDB read_csv into a table ($ROWS rows): ${W3} s wall, $(awk -v r="$ROWS" -v w="$W3" 'BEGIN{printf "%.0f", r/w}') rows/s, $(awk -v u="$U3" -v s="$S3" 'BEGIN{print u+s}') CPU-s, $((M3 / 1024)) MB peak RSS, $(du -cb "$P"* | tail -1 | cut -f1) bytes"
echo "cairn ÷ DuckDB rows/s: $(awk -v a="$W3" -v b="$W2" 'BEGIN{printf "%.2f", a/b}')"
rm -f "$T"
