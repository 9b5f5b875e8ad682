#!/usr/bin/env bash
# HTTP Event Collector benchmark (issue 15): events/s that `cairn serve` accepts and acknowledges
# as durable, for small JSON log events and for CloudTrail records in EventBridge envelopes
# (Firehose's shape). Each run starts a fresh server on an empty data folder with one useACK
# token and runs tests/serve/hec_bench.cjs against it (CONNS keep-alive connections, batches of
# 100, bodies built before the clock starts); runs of the two kinds alternate. Prints one JSON
# line per run: the client's figures plus the server's CPU seconds (user + system from
# /proc/PID/stat, start-up and background merges included) and peak RSS.
# Usage: bench/hec.sh [EVENTS] [RUNS]   (defaults 400000, 2). Env: BUILD (build), CONNS (4),
# KINDS ("json cloudtrail"), CLIENT (tests/serve/hec_bench.cjs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${1:-400000}
RUNS=${2:-2}
CAIRN=$ROOT/${BUILD:-build}/src/cli/cairn
CONNS=${CONNS:-4}
KINDS=${KINDS:-json cloudtrail}
WORK=$(mktemp -d /tmp/cairn-hec-bench.XXXXXX)
TOKEN=0b7c5e1a-3f2d-4c6b-8a9e-112233445566
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export CAIRN_ADMIN_PASSWORD=bench-password-0123456789
cat >"$WORK/hec.toml" <<TOML
[serve]
hec_port = 0
[[serve.hec_token]]
name = "bench"
token = "$TOKEN"
index = "bench"
useACK = true
TOML
TICKS=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
  for kind in $KINDS; do
    rm -rf "$WORK/data" "$WORK/port" "$WORK/rest-port"
    "$CAIRN" serve --config "$WORK/hec.toml" --data "$WORK/data" --no-collect --ui-port -1 \
      --port 0 --port-file "$WORK/rest-port" --hec-port 0 --hec-port-file "$WORK/port" \
      >"$WORK/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 1 300); do [ -s "$WORK/port" ] && break; sleep 0.05; done
    [ -s "$WORK/port" ] || { cat "$WORK/serve.log"; exit 1; }
    out=$(CAIRN_HEC_URL=http://127.0.0.1:$(cat "$WORK/port") CAIRN_HEC_TOKEN=$TOKEN \
      CAIRN_HEC_EVENTS=$EVENTS CAIRN_HEC_CONNS=$CONNS CAIRN_HEC_KIND=$kind \
      node "${CLIENT:-tests/serve/hec_bench.cjs}")
    read -r -a st <"/proc/$SERVE_PID/stat"
    cpu=$(awk -v u="${st[13]}" -v s="${st[14]}" -v t="$TICKS" 'BEGIN{printf "%.2f", (u+s)/t}')
    rss=$(awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$SERVE_PID/status")
    kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
    echo "${out%\}}, \"server_cpu_s\": $cpu, \"server_peak_rss_mb\": $rss, \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\"}"
  done
done
