#!/usr/bin/env bash
# Search head benchmark (issue 15): Splunk's REST search API on `cairn serve` over 10M events.
#   1. needles: the first page of needle searches (a rare event name, an IP address term, one
#      user's hour, a rare event's count), one at a time, as a oneshot request and as a normal job
#      polled to completion (bench/serve_load.mjs needle);
#   2. users: USERS concurrent users running a mix of needles and aggregations for SECONDS while
#      a collector inside the server collects a trickle of files from fauxqs (SQS + S3 on
#      127.0.0.1), against the same trickle with no users (the collector alone): search latency
#      p50/p99 and the collector's delivery-to-searchable latency (SQS SentTimestamp to durable
#      commit; from its Prometheus histogram, so quantiles are bucket upper bounds).
# Data sets: the default profile (1 day) and the wide profile (21 days, many more distinct users,
# keys and addresses), 10M events each, as bench/store.sh writes them (generated if missing),
# copied and merged once (BENCH_DIR/serve-store-*).
# Usage: bench/serve.sh [EVENTS]   (default 10000000). Env: USERS (20), SECONDS (60),
# PROFILES ("default wide"), TRICKLE_MS (files one every 20 ms, 20 events each).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${1:-10000000}
B=${BUILD:-build}
CAIRN=$ROOT/$B/src/cli/cairn
LOAD=$ROOT/$B/tests/collect/collect_load
BENCH=${BENCH_DIR:-/tmp/cairn-bench}
WORK=$(mktemp -d /tmp/cairn-serve-bench.XXXXXX)
USERS=${USERS:-20}
SECONDS_RUN=${SECONDS:-60}
TRICKLE_MS=${TRICKLE_MS:-20}
export CAIRN_USER=admin CAIRN_PASSWORD=bench-password-0123456789
SERVE_PID=""
FAUXQS_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
  [ -n "$FAUXQS_PID" ] && kill "$FAUXQS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkfifo "$WORK/in"
FAUXQS_DEFAULT_REGION=us-west-2 node tests/harness/fauxqs_server.mjs <"$WORK/in" >"$WORK/fauxqs.out" 2>&1 &
FAUXQS_PID=$!
exec 9>"$WORK/in"
for _ in $(seq 100); do grep -q FAUXQS_LISTENING "$WORK/fauxqs.out" 2>/dev/null && break; sleep 0.1; done
FAUXQS_PORT=$(awk '/FAUXQS_LISTENING/{print $2}' "$WORK/fauxqs.out")
export AWS_ENDPOINT_URL=http://127.0.0.1:$FAUXQS_PORT AWS_EC2_METADATA_DISABLED=true
export CAIRN_COLLECT_WAIT_SECONDS=1
echo "events: $EVENTS per data set; users: $USERS for ${SECONDS_RUN} s; trickle: a 20-event file every $TRICKLE_MS ms; cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# start_serve DATA CONFIG: the server on DATA (its REST port in $URL, metrics in $METRICS).
start_serve() {
  local mport
  mport=$(free_port)
  METRICS=http://127.0.0.1:$mport/metrics
  rm -f "$WORK/port"
  CAIRN_ADMIN_PASSWORD=$CAIRN_PASSWORD "$CAIRN" --log-level warn --data "$1" serve ${2:+--config "$2"} \
    --port 0 --port-file "$WORK/port" --ui-port -1 --metrics "127.0.0.1:$mport" 2>>"$WORK/serve.err" &
  SERVE_PID=$!
  for _ in $(seq 600); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || { echo "cairn serve did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
  export CAIRN_URL=http://127.0.0.1:$(cat "$WORK/port")
}
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID" || true
  SERVE_PID=""
}

# The collector's delivery latency quantile Q from the histogram at $METRICS (bucket bound, ms).
latency_q() {
  curl -s "$METRICS" | awk -v q="$1" '
    /^cairn_collect_delivery_latency_seconds_bucket/ {
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; bound[n] = le; cum[n] = $2 }
    END { total = cum[n]; if (total == 0) { print "n/a"; exit }
          for (i = 1; i <= n; i++) if (cum[i] >= q * total) { print (bound[i] == "+Inf" ? "inf" : bound[i] * 1000); exit } }'
}
delivered() { curl -s "$METRICS" | awk '/^cairn_collect_delivery_latency_seconds_count/{print $2}'; }

for profile in ${PROFILES:-default wide}; do
  if [ "$profile" = default ]; then TAG=$EVENTS; else TAG=$profile-$EVENTS; fi
  GEN=$BENCH/gen-$TAG
  if [ ! -d "$GEN" ]; then
    "$CAIRN" generate --out "$GEN" --events "$EVENTS" --seed 1 --days $([ "$profile" = wide ] && echo 21 || echo 1) \
      --profile "$profile" --threads 2 >&2
  fi
  D=$BENCH/serve-store-$TAG
  if [ ! -d "$D" ] && [ -d "$BENCH/store-cairn-$TAG" ]; then
    cp -r "$BENCH/store-cairn-$TAG" "$D" && rm -f "$D/LOCK"
  elif [ ! -d "$D" ]; then
    "$CAIRN" --log-level warn ingest --no-progress --data "$D" "$GEN/AWSLogs" >/dev/null
  fi
  # As a server that has run for a while holds it: each day merged (otherwise the server's
  # background merger would rewrite the cold days during the measurements).
  if [ ! -f "$D/.bench-merged" ]; then
    "$CAIRN" --log-level warn --data "$D" index merge >/dev/null && touch "$D/.bench-merged"
  fi
  # Needles from the data: the StopLogging event's address, the busiest IAM user and its hour.
  IP=$("$CAIRN" --data "$D" search --format csv 'eventName=StopLogging | head 1 | table sourceIPAddress' | sed -n 2p | tr -d '"')
  USER_ARN=$("$CAIRN" --data "$D" search --format csv 'userIdentity.type=IAMUser | stats count by userIdentity.arn | sort -count | head 1 | table userIdentity.arn' | sed -n 2p | tr -d '"')
  HOUR=$("$CAIRN" --data "$D" search --format csv "userIdentity.arn=\"$USER_ARN\" | bin _time span=1h | stats count by _time | sort -count | head 1 | eval t=_time | table t" | sed -n 2p | tr -d '"')
  LAST=$("$CAIRN" --data "$D" search --format csv '* | stats max(_time) as t' | sed -n 2p | tr -d '"' | cut -d. -f1)
  DAY=$((LAST - 86400))
  export SEARCHES
  SEARCHES=$(node -e '
    const [ip, user, hour, day, last] = process.argv.slice(1);
    console.log(JSON.stringify([
      { name: "rare event", search: "eventName=StopLogging" },
      { name: "ip term", search: `sourceIPAddress=${ip}` },
      { name: "user hour", search: `userIdentity.arn="${user}"`, earliest: hour, latest: String(Number(hour) + 3600) },
      { name: "rare count", search: "eventName=StopLogging | stats count" },
    ]));' "$IP" "$USER_ARN" "$HOUR" "$DAY" "$LAST")
  MIX=$(node -e '
    const [needles, day, last] = [JSON.parse(process.argv[1]), process.argv[2], process.argv[3]];
    const d = { earliest: day, latest: String(Number(last) + 1) };
    console.log(JSON.stringify([...needles,
      { name: "denied by user", search: "errorCode=AccessDenied | stats count by userIdentity.arn | sort -count | head 10", ...d },
      { name: "timechart", search: "* | timechart span=1h count by eventSource", ...d },
      { name: "top ip", search: "* | top limit=10 sourceIPAddress", ...d },
      { name: "console logins", search: "eventName=ConsoleLogin | stats count by additionalEventData.MFAUsed, userIdentity.arn" },
    ]));' "$SEARCHES" "$DAY" "$LAST")

  echo "== $profile $EVENTS: needles (ip $IP, user $USER_ARN, hour $HOUR)"
  start_serve "$D" ""
  node bench/serve_load.mjs needle
  stop_serve

  # The collector alone, then with the users: the same trickle into a queue of its own each time.
  for run in alone users; do
    Q=bench-$profile-$run
    "$LOAD" "$AWS_ENDPOINT_URL" $Q $Q 0 1 sns 2>/dev/null
    cat >"$WORK/inputs-$Q.conf" <<CONF
[aws_cloudtrail://$Q]
exclude_describe_events = 0
index = trickle
interval = 1
key_id = key
secret_key = secret
sqs_queue = $Q
sqs_queue_region = us-west-2
sourcetype = aws-cloudtrail
CONF
    start_serve "$D" "$WORK/inputs-$Q.conf"
    FILES=$((SECONDS_RUN * 1000 / TRICKLE_MS))
    "$LOAD" "$AWS_ENDPOINT_URL" $Q $Q $FILES 20 sns "$TRICKLE_MS" >/dev/null 2>&1 &
    LPID=$!
    if [ $run = users ]; then
      SEARCHES=$MIX USERS=$USERS SECONDS=$SECONDS_RUN node bench/serve_load.mjs users >"$WORK/users.json"
    fi
    wait $LPID
    # Until the collector has delivered every file (bounded: 120 s).
    for _ in $(seq 1200); do [ "$(delivered)" = "$FILES" ] && break; sleep 0.1; done
    echo "$profile $run: files delivered $(delivered)/$FILES; delivery-to-searchable p50 $(latency_q 0.5) ms p99 $(latency_q 0.99) ms"
    [ $run = users ] && echo "$profile users: $(cat "$WORK/users.json")"
    stop_serve
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
