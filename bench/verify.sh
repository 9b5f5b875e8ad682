#!/usr/bin/env bash
# `cairn verify` throughput against the machine's SHA-256 speed, measured in the same run.
# Usage: bench/verify.sh [EVENTS] [THREADS]   (BUILD=build by default; data under /tmp)
# Generates the default data set with signed digests, verifies it (all valid) and reports log
# files and MB of uncompressed JSON per CPU-second and per wall-second, then `openssl speed` of
# SHA-256 over 16 KB blocks (the peer: verify must hash every byte; the rest is gunzip and I/O).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-1000000}"
THREADS="${2:-2}"
BUILD="${BUILD:-build}"
CAIRN="$BUILD/src/cli/cairn"
DIR="$(mktemp -d /tmp/cairn_verify_bench_XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

gen="$("$CAIRN" generate --out "$DIR/b" --events "$EVENTS" --threads "$THREADS" --digests "$DIR/keys")"
json_mb="$(echo "$gen" | sed -n 's/.*(\([0-9.]*\) MB JSON).*/\1/p')"
files="$(echo "$gen" | sed -n 's/.* in \([0-9]*\) files,.*/\1/p')"
echo "$gen"
echo "load: $(uptime | sed 's/.*load average: //')"
for run in 1 2 3; do
  /usr/bin/time -f "%e %U %S" -o "$DIR/time" "$CAIRN" verify --local "$DIR/b" \
    --bucket cairn-generated-trail --public-keys "$DIR/keys" --threads "$THREADS" >"$DIR/out"
  read -r wall user sys <"$DIR/time"
  tail -2 "$DIR/out" | tr '\n' ' '
  awk -v w="$wall" -v u="$user" -v s="$sys" -v mb="$json_mb" -v f="$files" 'BEGIN {
    cpu = u + s;
    printf "| %.2f s wall, %.2f CPU-s | %.0f files/s, %.0f MB/s wall | %.0f files, %.0f MB per CPU-s |\n",
           w, cpu, f / w, mb / w, f / cpu, mb / cpu }'
done
echo "peer: openssl speed -evp sha256 (16 KB blocks, one core):"
openssl speed -seconds 2 -evp sha256 2>/dev/null | awk '/^sha256/ { printf "%.0f MB/s\n", $NF / 1000 }'
