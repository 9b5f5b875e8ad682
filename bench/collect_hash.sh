#!/usr/bin/env bash
# What hashing log files (continuous verification, docs/verify.md) costs `cairn collect`.
#
# Two data sets from `cairn generate`, uploaded once to the fauxqs emulator on 127.0.0.1 (started
# here): "small" (many files of about 20 events: 3 accounts x 4 regions, one day) and "large"
# (288 files of about 2,000 events: one account and region, one day). For each of PAIRS pairs and
# each set, the same backlog is announced (CloudTrail's notification through the site's SNS topics,
# into a fresh queue) and collected by the real `cairn collect` from start to idle, once with
# hashing on (the default) and once with `collect.hash_logs = false` (a benchmark-only setting
# that also turns continuous verification off), the order alternating from pair to pair. Each run
# prints files/s, events/s and MB/s of decoded JSON over collect's busy time (first receive to
# last delete), and the process's CPU seconds (user + system, from start to exit); then the
# medians per set and way, and what hashing costs.
#
# Usage: bench/collect_hash.sh [PAIRS]   (default 4). BUILD=build dir (default build),
# WORKERS (default 4), SMALL_EVENTS (default 60000), LARGE_EVENTS (default 600000), KEEP=1 keeps
# the work folder. PROFILE=1 adds, per set, one run each way under `perf record` and prints the
# share of collect's CPU samples in libcrypto (OpenSSL: the SHA-256, and SigV4's HMACs both ways):
# the difference is hashing's share of collect's CPU, measured inside single runs, so the load of
# other processes on a shared machine does not blur it as it blurs throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-4}
B=${BUILD:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
CAIRN=$B/src/cli/cairn
LOAD=$B/tests/collect/collect_load
WORKERS=${WORKERS:-4}
WORK=$(mktemp -d /tmp/cairn-collect-hash.XXXXXX)
trap 'kill $FAUXQS_PID 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

"$CAIRN" --log-level warn generate --out "$WORK/small" --events "${SMALL_EVENTS:-60000}" \
  --days 1 --accounts 3 --regions 4 --no-scenarios --seed 1 >"$WORK/gen-small.out"
"$CAIRN" --log-level warn generate --out "$WORK/large" --events "${LARGE_EVENTS:-600000}" \
  --days 1 --accounts 1 --regions 1 --no-scenarios --seed 2 >"$WORK/gen-large.out"

mkfifo "$WORK/in"
FAUXQS_DEFAULT_REGION=us-west-2 node tests/harness/fauxqs_server.mjs <"$WORK/in" >"$WORK/fauxqs.out" 2>&1 &
FAUXQS_PID=$!
exec 9>"$WORK/in"
for _ in $(seq 100); do grep -q FAUXQS_LISTENING "$WORK/fauxqs.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/FAUXQS_LISTENING/{print $2}' "$WORK/fauxqs.out")
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_EC2_METADATA_DISABLED=true
export CAIRN_COLLECT_WAIT_SECONDS=1

declare -A NFILES JSON_MB GZ_MB
for SET in small large; do
  find "$WORK/$SET" -name '*.json.gz' | sort >"$WORK/$SET.list"
  NFILES[$SET]=$(wc -l <"$WORK/$SET.list")
  GZ_MB[$SET]=$(xargs cat <"$WORK/$SET.list" | wc -c | awk '{printf "%.1f", $1 / 1e6}')
  JSON_MB[$SET]=$(xargs cat <"$WORK/$SET.list" | gzip -dc | wc -c | awk '{printf "%.1f", $1 / 1e6}')
  "$LOAD" "$AWS_ENDPOINT_URL" "put-$SET" "bench-$SET" --put "$WORK/$SET" 2>>"$WORK/load.err"
  echo "set $SET: ${NFILES[$SET]} files, $(grep -o '[0-9,]* events' "$WORK/gen-$SET.out" | head -1)," \
    "${GZ_MB[$SET]} MB gzipped, ${JSON_MB[$SET]} MB of JSON"
done
echo "cores: $(nproc), workers: $WORKERS, load average: $(cut -d' ' -f1-3 /proc/loadavg)," \
  "emulator: fauxqs on 127.0.0.1:$PORT"

run() {  # run SET PAIR WAY(on|off) [profile]
  local set=$1 pair=$2 way=$3 q="hash-$1-$2-$3"
  "$LOAD" "$AWS_ENDPOINT_URL" "$q" "bench-$set" --announce "$WORK/$set" 2>>"$WORK/load.err"
  cat >"$WORK/inputs-$q.conf" <<CONF
[aws_cloudtrail://$q]
	index = aws-cloudtrail
	interval = 1
	key_id = key
	secret_key = secret
	sqs_queue = $q
	sqs_queue_region = us-west-2
	sourcetype = aws-cloudtrail
CONF
  local hash=true
  [ "$way" = on ] || hash=false
  local out perf=()
  [ -z "${4:-}" ] || perf=(perf record -q -F 999 -o "$WORK/perf-$q.data" --)
  out=$(CAIRN_COLLECT_HASH_LOGS=$hash /usr/bin/time -f 'TIME %e %U %S' "${perf[@]}" "$CAIRN" --log-level warn \
    --data "$WORK/data-$q" collect --config "$WORK/inputs-$q.conf" --until-idle 2 \
    --workers "$WORKERS" 2>&1)
  rm -rf "$WORK/data-$q"
  # The setting took effect (the collector warns when hashing is off), and only then.
  if [ "$way" = off ] && ! grep -q "hash_logs = false" <<<"$out"; then
    echo "run $set $pair off: the collector did not turn hashing off" >&2
    exit 1
  fi
  if [ "$way" = on ] && grep -q "hash_logs = false" <<<"$out"; then
    echo "run $set $pair on: hashing was off" >&2
    exit 1
  fi
  echo "$out" | awk -v set="$set" -v pair="$pair" -v way="$way" -v mb="${JSON_MB[$set]}" \
    -v want="${NFILES[$set]}" '
    /^collected/ { for (i = 1; i <= NF; i++) { if ($i == "files,") files = $(i - 1);
                   if ($i == "busy") busy = $(i + 1); if ($i == "files/s,") fps = $(i - 1);
                   if ($i == "events/s;") eps = $(i - 1) } }
    /^TIME/ { cpu = $3 + $4 }
    END { if (files != want) { printf "run %s %s %s: collected %s files of %s\n", set, pair, way, files, want > "/dev/stderr"; exit 1 }
          printf "%s pair %s hash %-3s  busy %6.2f s  %7.1f files/s  %8.0f events/s  %6.1f MB/s  CPU %6.2f s\n",
                 set, pair, way, busy, fps, eps, mb / busy, cpu }' | tee -a "$WORK/runs.txt"
}

for P in $(seq "$PAIRS"); do
  for SET in small large; do
    if [ $((P % 2)) = 1 ]; then run $SET $P on; run $SET $P off; else run $SET $P off; run $SET $P on; fi
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${PROFILE:-}" ]; then
  for SET in small large; do
    for WAY in off on; do
      run $SET profile $WAY profile >/dev/null
      share=$(perf report -i "$WORK/perf-hash-$SET-profile-$WAY.data" --no-children --sort dso \
        --stdio 2>/dev/null | awk '/libcrypto/ { sub("%", "", $1); s += $1 } END { printf "%.1f", s }')
      echo "profile $SET hash $WAY: libcrypto ${share}% of collect's CPU samples"
    done
  done
fi
grep -v profile "$WORK/runs.txt" >"$WORK/runs.pairs" || true
mv "$WORK/runs.pairs" "$WORK/runs.txt"

# Medians per set and way, and the median over pairs of each pair's on/off ratio (a pair's two
# runs are back to back, so the ratio cancels most of the drift of a shared machine's load).
python3 - "$WORK/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) < 16 or w[1] != "pair":
        continue
    runs[(w[0], w[2], w[4])] = [float(w[8]), float(w[10]), float(w[12]), float(w[15])]
print("| data | hashing | files/s | events/s | MB/s (JSON) | CPU-s |")
print("|---|---|---|---|---|---|")
for name in ("small", "large"):
    pairs = sorted({p for (n, p, _) in runs if n == name and (n, p, "on") in runs and (n, p, "off") in runs})
    for way in ("off", "on"):
        f, e, m, c = [statistics.median(runs[(name, p, way)][i] for p in pairs) for i in range(4)]
        print(f"| {name} | {way} (median of {len(pairs)}) | {f:,.1f} | {e:,.0f} | {m:,.1f} | {c:.2f} |")
    cost = []
    for i in range(4):
        r = [runs[(name, p, "on")][i] / runs[(name, p, "off")][i] for p in pairs]
        med = statistics.median(r)
        lo, hi = min(r), max(r)
        # Throughput lost (1 - on/off); CPU added (on/off - 1).
        if i < 3:
            cost.append(f"{100 * (1 - med):+.1f}% ({100 * (1 - hi):+.0f}..{100 * (1 - lo):+.0f})")
        else:
            cost.append(f"{100 * (med - 1):+.1f}% ({100 * (lo - 1):+.0f}..{100 * (hi - 1):+.0f})")
    print(f"| {name} | cost of hashing, median of pairs (range) | " + " | ".join(cost) + " |")
PY
