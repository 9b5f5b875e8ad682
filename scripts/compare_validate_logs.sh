#!/usr/bin/env bash
# Compares `cairn verify` with the AWS CLI's `aws cloudtrail validate-logs` on the same generated
# bucket, clean and damaged each way (docs/verify.md keeps the result). Needs node + npm ci
# (fauxqs), python3 and the AWS CLI. Everything listens on 127.0.0.1 and is stopped on exit.
# Usage: scripts/compare_validate_logs.sh [CAIRN]
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN=$(realpath "${1:-build/src/cli/cairn}")
HERE=$PWD/scripts/validate_logs
DIR=$(mktemp -d /tmp/cairn_validate_logs_XXXXXX)
BUCKET=vl-bucket
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

port_of() {  # FILE WORD: waits for "WORD <port>" in FILE
  for _ in $(seq 100); do
    if grep -q "^$2 " "$1" 2>/dev/null; then awk -v w="$2" '$1 == w { print $2 }' "$1"; return; fi
    sleep 0.1
  done
  echo "no port in $1" >&2; exit 2
}

mkfifo "$DIR/fauxqs.in"
node tests/harness/fauxqs_server.mjs <"$DIR/fauxqs.in" >"$DIR/fauxqs.out" 2>&1 &
pids+=($!)
exec 9>"$DIR/fauxqs.in"  # keeps the emulator's stdin open until this script ends
FAUXQS=$(port_of "$DIR/fauxqs.out" FAUXQS_LISTENING)
python3 "$HERE/s3_location_proxy.py" "$FAUXQS" >"$DIR/proxy.out" 2>/dev/null &
pids+=($!)
PROXY=$(port_of "$DIR/proxy.out" PORT)

"$CAIRN" generate --out "$DIR/clean" --events 3000 --accounts 1 --regions 1 --no-scenarios \
  --threads 1 --digests "$DIR/keys" --bucket "$BUCKET" >/dev/null
ACCOUNT=$(ls "$DIR/clean/AWSLogs")
python3 "$HERE/cloudtrail_standin.py" "$DIR/keys" "$ACCOUNT" "$BUCKET" >"$DIR/ct.out" 2>/dev/null &
pids+=($!)
CT=$(port_of "$DIR/ct.out" PORT)

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:$CT
s3() { AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY aws "$@"; }
s3 s3api create-bucket --bucket "$BUCKET" >/dev/null

upload() {
  s3 s3 rm "s3://$BUCKET" --recursive --only-show-errors
  s3 s3 sync "$1/AWSLogs" "s3://$BUCKET/AWSLogs" --exclude "*.sig" --exclude "*CloudTrail-Digest*" \
    --only-show-errors
  for f in $(cd "$1" && find AWSLogs -name "*.json.gz" -path "*CloudTrail-Digest*"); do
    s3 s3api put-object --bucket "$BUCKET" --key "$f" --body "$1/$f" \
      --metadata "signature=$(cat "$1/$f.sig"),signature-algorithm=SHA256withRSA" >/dev/null
  done
}

for mode in clean modify delete chain signature; do
  src="$DIR/clean"
  if [ "$mode" != clean ]; then
    src="$DIR/$mode"
    "$CAIRN" generate --out "$src" --events 3000 --accounts 1 --regions 1 --no-scenarios \
      --threads 1 --digests "$DIR/keys" --bucket "$BUCKET" --tamper "$mode" >/dev/null
  fi
  upload "$src"
  echo "== $mode: aws cloudtrail validate-logs"
  set +e
  s3 cloudtrail validate-logs --trail-arn "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/cairn-trail" \
    --start-time 2026-11-01T00:00:00Z --end-time 2026-11-02T02:00:00Z 2>&1 | grep -E "INVALID|valid"
  echo "exit ${PIPESTATUS[0]}"
  echo "== $mode: cairn verify"
  AWS_ENDPOINT_URL=http://127.0.0.1:$FAUXQS "$CAIRN" --log-level error --data "$DIR/data" \
    verify "s3://$BUCKET" --earliest 2026-11-01T00:00:00Z --latest 2026-11-02T02:00:00Z \
    | grep -E "INVALID|valid|^  [0-9]" | grep -v unlisted
  echo "exit ${PIPESTATUS[0]}"
  set -e
done
