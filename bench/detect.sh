#!/usr/bin/env bash
# Streaming detection benchmark (issue 16): `cairn ingest` into the store with every Sigma rule
# loaded (the shared rules and rules/sigma) against the same ingest without rules, in alternating
# pairs over the same generated files, for the default and the wide profile.
# Modes: plain (no rules), rules (all), quiet (all but the AssumeRole rule; see below).
# Usage: bench/detect.sh [EVENTS] [PAIRS]     (defaults 500000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-500000}
PAIRS=${2:-3}
B=${BUILD:-build}
CAIRN=$B/src/cli/cairn
WORK=${BENCH_DIR:-/tmp/cairn-bench-detect}
SHARED=${CAIRN_SHARED_DATA:-../shared/data}
mkdir -p "$WORK"
# The rules: linked, not copied.
RULES=$WORK/rules
rm -rf "$RULES" && mkdir -p "$RULES"
for f in "$SHARED"/sigma/rules/*.yml rules/sigma/*.yml; do ln -s "$(realpath "$f")" "$RULES/"; done
# The same without aws_sts_assumerole_misuse, which matches most assumed-role calls (about 60% of
# the events): the cost of evaluating the rules, apart from the cost of storing that many alerts.
QUIET=$WORK/rules-quiet
rm -rf "$QUIET" && mkdir -p "$QUIET"
for f in "$RULES"/*.yml; do [ "$(basename "$f")" = aws_sts_assumerole_misuse.yml ] || ln -s "$(realpath "$f")" "$QUIET/"; done
echo "rules: $(ls "$RULES" | wc -l) files; cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for profile in default wide; do
  LOGS=$WORK/gen-$profile-$EVENTS
  if [ ! -d "$LOGS" ]; then
    "$CAIRN" generate --out "$LOGS" --events "$EVENTS" --seed 1 --days 1 --profile "$profile" --threads 2 >&2
  fi
  find "$LOGS/AWSLogs" -name '*.json.gz' -exec cat {} + > /dev/null
  for pair in $(seq 1 "$PAIRS"); do
    for mode in plain rules quiet; do
      rm -rf "$WORK/data"
      extra=""
      [ "$mode" = rules ] && extra="--rules $RULES"
      [ "$mode" = quiet ] && extra="--rules $QUIET"
      /usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" \
        "$CAIRN" --log-level warn ingest --no-progress --data "$WORK/data" $extra "$LOGS/AWSLogs" > "$WORK/out.txt"
      read -r wall user sys < "$WORK/time.txt"
      alerts=0
      if [ "$mode" != plain ]; then
        alerts=$("$CAIRN" --data "$WORK/data" index info alerts 2>/dev/null | awk '/^events:/{print $2}' || echo 0)
      fi
      awk -v p="$profile" -v m="$mode" -v n="$EVENTS" -v w="$wall" -v u="$user" -v s="$sys" -v a="$alerts" \
        -v pair="$pair" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN{printf "%s pair %d %-6s wall %.2f s  %.0f events/s  CPU %.2f s  %.0f events/CPU-s  alerts %s  load %s\n", p, pair, m, w, n/w, u+s, n/(u+s), a, l}'
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$WORK/data"
