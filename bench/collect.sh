#!/usr/bin/env bash
# Collector benchmark against the fauxqs emulator on 127.0.0.1 (started here).
#   1. throughput: FILES small CloudTrail files (EVENTS each), announced through the site's SNS
#      topics, collected from a backlog by `cairn collect` with 1, 2, 4 and 8 workers;
#   2. delivery-to-searchable latency: files announced one by one while the collector runs
#      (SQS SentTimestamp to message deletion, i.e. events durable and searchable), p50/p99.
# Usage: bench/collect.sh [FILES] [EVENTS]   (defaults 2000 20). BUILD=build dir (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-2000}
EVENTS=${2:-20}
B=${BUILD:-build}
CAIRN=$B/src/cli/cairn
LOAD=$B/tests/collect/collect_load
WORK=$(mktemp -d /tmp/cairn-collect-bench.XXXXXX)
trap 'kill $FAUXQS_PID 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

mkfifo "$WORK/in"
FAUXQS_DEFAULT_REGION=us-west-2 node tests/harness/fauxqs_server.mjs <"$WORK/in" >"$WORK/fauxqs.out" 2>&1 &
FAUXQS_PID=$!
exec 9>"$WORK/in"
for _ in $(seq 100); do grep -q FAUXQS_LISTENING "$WORK/fauxqs.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/FAUXQS_LISTENING/{print $2}' "$WORK/fauxqs.out")
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_EC2_METADATA_DISABLED=true
export CAIRN_COLLECT_WAIT_SECONDS=1
echo "files: $FILES x $EVENTS events, cores: $(nproc), emulator: fauxqs on 127.0.0.1:$PORT"

conf() {  # conf QUEUE
  cat >"$WORK/inputs-$1.conf" <<CONF
[aws_cloudtrail://$1]
exclude_describe_events = 0
	index = aws-cloudtrail
	interval = 1
	key_id = key
	secret_key = secret
	sqs_queue = $1
	sqs_queue_region = us-west-2
	sourcetype = aws-cloudtrail
CONF
}

for W in ${WORKERS:-1 2 4 8}; do
  Q=bench-w$W
  "$LOAD" "$AWS_ENDPOINT_URL" $Q $Q "$FILES" "$EVENTS" sns 2>/dev/null
  conf $Q
  out=$("$CAIRN" --log-level warn --data "$WORK/data-$W" collect --config "$WORK/inputs-$Q.conf" --until-idle 2 --workers $W)
  echo "workers $W: ${out#*busy }"
done

# Latency: a trickle of files while the collector runs with its defaults (long poll 20 s).
Q=bench-latency
"$LOAD" "$AWS_ENDPOINT_URL" $Q $Q 0 1 sns 2>/dev/null
conf $Q
CAIRN_COLLECT_WAIT_SECONDS=5 "$CAIRN" --log-level warn --data "$WORK/data-lat" collect \
  --config "$WORK/inputs-$Q.conf" --until-idle 1 --workers 4 >"$WORK/lat.out" &
CPID=$!
sleep 1
"$LOAD" "$AWS_ENDPOINT_URL" $Q $Q 200 "$EVENTS" sns 50
wait $CPID
echo "latency run (200 files, one every 50 ms): $(sed 's/.*delivery-to-searchable/delivery-to-searchable/' "$WORK/lat.out")"
