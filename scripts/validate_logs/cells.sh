#!/usr/bin/env bash
# Runs the AWS CLI's `aws cloudtrail validate-logs` once per account and region of a trail whose
# objects are already in the fauxqs S3 emulator, with a stand-in for CloudTrail (DescribeTrails,
# ListPublicKeys) and Organizations (DescribeOrganization) and a proxy answering S3
# GetBucketLocation (which fauxqs lacks), all on 127.0.0.1 and stopped on exit. For
# tests/cli/verify_s3_test.cc (ValidateLogsAgreesPerAccountAndRegion).
#
# Usage: cells.sh FAUXQS_PORT KEYDIR BUCKET PREFIX ORG_ID HOME_REGION TRAIL START END ACCOUNT:REGION...
#   PREFIX and ORG_ID may be "-" (none). Prints, per ACCOUNT:REGION,
#     CELL <account> <region> exit <n> digests <valid> <invalid> logs <valid> <invalid>
#   and each INVALID line validate-logs wrote as "INVALID <account> <region> <key>".
# Exit 0 when every run happened (whatever validate-logs found), 3 when the AWS CLI is missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
command -v aws >/dev/null || { echo "aws CLI not found" >&2; exit 3; }
FAUXQS=$1 KEYDIR=$2 BUCKET=$3 PREFIX=$4 ORG=$5 HOME_REGION=$6 TRAIL=$7 START=$8 END=$9
shift 9
[ "$PREFIX" = - ] && PREFIX=
[ "$ORG" = - ] && ORG=
DIR=$(mktemp -d /tmp/cairn_vl_cells_XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
port_of() {  # FILE: waits for "PORT <n>" in FILE
  for _ in $(seq 100); do
    if grep -q "^PORT " "$1" 2>/dev/null; then awk '$1 == "PORT" { print $2 }' "$1"; return; fi
    sleep 0.1
  done
  echo "no port in $1" >&2
  exit 2
}

python3 "$HERE/s3_location_proxy.py" "$FAUXQS" >"$DIR/proxy.out" 2>/dev/null &
pids+=($!)
PROXY=$(port_of "$DIR/proxy.out")
MGMT=${1%%:*}  # the trail belongs to the first account (an organization's management account)
python3 "$HERE/cloudtrail_standin.py" "$KEYDIR" "$MGMT" "$BUCKET" "$HOME_REGION" "$PREFIX" \
  "$ORG" "$TRAIL" >"$DIR/ct.out" 2>/dev/null &
pids+=($!)
CT=$(port_of "$DIR/ct.out")

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true \
  AWS_ENDPOINT_URL_CLOUDTRAIL=http://127.0.0.1:$CT \
  AWS_ENDPOINT_URL_ORGANIZATIONS=http://127.0.0.1:$CT \
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PROXY
unset AWS_ENDPOINT_URL AWS_PROFILE
for cell in "$@"; do
  account=${cell%%:*} region=${cell#*:}
  set +e
  aws --region "$region" cloudtrail validate-logs \
    --trail-arn "arn:aws:cloudtrail:$HOME_REGION:$MGMT:trail/$TRAIL" --account-id "$account" \
    --start-time "$START" --end-time "$END" >"$DIR/out" 2>"$DIR/err"
  status=$?
  set -e
  # "N/M digest files valid, K/M digest files INVALID" (and the same for log files); absent when
  # validate-logs found none of them.
  counts() {  # counts WHAT: "<valid> <invalid>"
    awk -v what="$1" '$0 ~ "/[0-9]+ " what " files valid" {
        split($1, a, "/"); v = a[1]; t = a[2]; printf "%d %d\n", v, t - v; found = 1 }
      END { if (!found) print "0 0" }' "$DIR/out"
  }
  echo "CELL $account $region exit $status digests $(counts digest) logs $(counts log)"
  grep -o "s3://$BUCKET/[^[:space:]]*[[:space:]]INVALID" "$DIR/err" |
    sed "s|s3://$BUCKET/||; s|[[:space:]]INVALID||; s|^|INVALID $account $region |" || true
  if [ "$status" -gt 1 ]; then sed 's/^/STDERR /' "$DIR/err" | head -20; fi
done
