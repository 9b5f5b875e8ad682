#!/usr/bin/env bash
# Search benchmark (issue 4): the issue's searches on cairn against DuckDB and embedded ClickHouse
# (chdb) on their native tables (loaded by bench/store.sh from the same files), with the equivalent
# SQL (bench/peers/peers.mjs). Each search is timed cold and warm:
#   cairn: cold = the first `cairn search` process after the store was written; warm = median of 5
#          further process runs (so warm includes process start and opening the store); also
#          `cairn search --timing --repeat 5` (best in-process run, the engine alone);
#   peers: cold = a fresh node process opening the database and running the query once (node's
#          own start excluded); warm = median of 5 repeats in that open database.
# Usage: bench/search.sh [EVENTS]   (default 2000000; run bench/store.sh EVENTS first)
# Env: PROFILE=default|wide picks the stores bench/store.sh wrote for that profile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${1:-2000000}
B=${BUILD:-build}
CAIRN=$ROOT/$B/src/cli/cairn
WORK=${BENCH_DIR:-/tmp/cairn-bench}
PROFILE=${PROFILE:-default}
if [ "$PROFILE" = default ]; then TAG=$EVENTS; else TAG=$PROFILE-$EVENTS; fi
D=$WORK/store-cairn-$TAG
DUCK=$WORK/peer-duckdb-$TAG.duckdb
CH=$WORK/peer-chdb-$TAG
[ -d "$D" ] && [ -f "$DUCK" ] && [ -d "$CH" ] || { echo "run PROFILE=$PROFILE bench/store.sh $EVENTS first" >&2; exit 1; }

# Needles taken from the data: the attacker IP of the StopLogging event, the busiest IAM user and
# that user's busiest hour.
PARAMS=$(cd bench/peers && node --input-type=module -e "
import { DuckDBInstance } from '@duckdb/node-api';
const c = await (await DuckDBInstance.create('$DUCK', { access_mode: 'READ_ONLY' })).connect();
const one = async (q) => (await c.runAndReadAll(q)).getRowsJson()[0][0];
const ip = await one(\"SELECT sourceIPAddress FROM events WHERE eventName = 'StopLogging' ORDER BY eventTime LIMIT 1\");
const user = await one(\"SELECT user_arn FROM events WHERE user_type = 'IAMUser' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1\");
const hour = Number(await one(\"SELECT epoch(time_bucket(INTERVAL 1 hour, eventTime))::BIGINT FROM events WHERE user_arn = '\" + user + \"' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1\"));
console.log(JSON.stringify({ ip, user, hour }));")
IP=$(node -e "console.log(JSON.parse(process.argv[1]).ip)" "$PARAMS")
USER_ARN=$(node -e "console.log(JSON.parse(process.argv[1]).user)" "$PARAMS")
HOUR=$(node -e "console.log(JSON.parse(process.argv[1]).hour)" "$PARAMS")

declare -A SPL=(
  [needle_count]='eventName=StopLogging | stats count'
  [needle_events]='eventName=StopLogging'
  [count_by_source]='sourcetype=aws:cloudtrail | stats count by eventSource'
  [access_denied_top]='errorCode=AccessDenied | stats count by userIdentity.arn | sort -count | head 10'
  [term_ip]="$IP | stats count"
  [timechart]='sourcetype=aws:cloudtrail | timechart span=1h count by eventName'
  [dc_access_key]='sourcetype=aws:cloudtrail | stats dc(userIdentity.accessKeyId)'
  [user_hour]="userIdentity.arn=$USER_ARN earliest=$HOUR latest=$((HOUR + 3600)) | head 100"
)
ORDER=(needle_count needle_events count_by_source access_denied_top term_ip timechart dc_access_key user_hour)

now_ms() { date +%s%N | awk '{printf "%.1f", $1 / 1e6}'; }
run_cairn() {  # prints elapsed ms and leaves the row count in $WORK/cairn-rows
  local t0 t1
  t0=$(now_ms)
  "$CAIRN" --log-level warn --data "$D" search --format json "$1" > "$WORK/cairn-out.json"
  t1=$(now_ms)
  wc -l < "$WORK/cairn-out.json" > "$WORK/cairn-rows"
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
field() { node -e "console.log(JSON.parse(process.argv[1])[process.argv[2]])" "$1" "$2"; }

echo "# PROFILE=$PROFILE bench/search.sh $EVENTS  ($(date -u +%FT%TZ), $(nproc) cores, uptime:$(uptime | sed 's/.*load/ load/'))"
echo "needles: ip=$IP user=$USER_ARN hour=$HOUR"
echo
echo "| search | cairn cold ms | cairn warm ms (process) | cairn in-process best | DuckDB cold | DuckDB warm | chdb cold | chdb warm | warm: cairn / faster peer | rows cairn/duckdb/chdb |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for q in "${ORDER[@]}"; do
  spl=${SPL[$q]}
  cold=$(run_cairn "$spl")
  warm=()
  for i in 1 2 3 4 5; do warm+=("$(run_cairn "$spl")"); done
  w=$(median "${warm[@]}")
  rows=$(cat "$WORK/cairn-rows")
  inproc=$("$CAIRN" --log-level warn --data "$D" search --format json --timing --repeat 5 "$spl" 2>&1 >/dev/null |
           sed -n 's/.*best of 5: \([0-9.]*\) ms.*/\1/p')
  d=$(cd bench/peers && node peers.mjs query duckdb "$DUCK" "$q" "$PARAMS")
  c=$(cd bench/peers && node peers.mjs query chdb "$CH" "$q" "$PARAMS")
  dw=$(field "$d" warm_ms); cw=$(field "$c" warm_ms)
  best=$(awk -v a="$dw" -v b="$cw" 'BEGIN{print (a < b) ? a : b}')
  printf '| `%s` | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %s/%s/%s |\n' "$spl" "$cold" "$w" "$inproc" \
    "$(field "$d" cold_ms)" "$dw" "$(field "$c" cold_ms)" "$cw" \
    "$(awk -v a="$w" -v b="$best" 'BEGIN{printf "%.2f", a / b}')" "$rows" "$(field "$d" rows)" "$(field "$c" rows)"
done
