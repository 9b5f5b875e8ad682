#!/bin/sh
# End to end through the cairn binary against fauxqs on 127.0.0.1: `cairn provision apply`
# (site layout, CloudTrail/IAM/S3-settings skipped: fauxqs lacks them), a gzipped CloudTrail log
# file in the provisioned bucket, CloudTrail's notification published to the eu-west-1 topic
# (AWS CLI as the independent client), `cairn collect` with the generated cairn.toml, and
# `cairn search` finding every event. The AWS CLI is Debian's (/usr/bin/aws, package awscli), never
# another `aws` on PATH; it predates AWS_ENDPOINT_URL, so it gets --endpoint-url. Exit 77 (skipped)
# when node, fauxqs or the AWS CLI is missing — or 1 under CI=true, where nothing may be skipped.
# Usage: provision_collect_e2e.sh CAIRN_BINARY REPO_ROOT
set -eu
CAIRN=$1
ROOT=$2
AWS_CLI=/usr/bin/aws
command -v node >/dev/null && [ -x "$AWS_CLI" ] && [ -d "$ROOT/node_modules/fauxqs" ] || {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: needs node, node_modules/fauxqs (npm ci) and $AWS_CLI (awscli), required under CI=true"
    exit 1
  fi
  echo "skipped: needs node, node_modules/fauxqs (npm ci) and $AWS_CLI (awscli)"; exit 77; }
WORK=$(mktemp -d)
FIFO=$WORK/stdin
mkfifo "$FIFO"
node "$ROOT/tests/harness/fauxqs_server.mjs" <"$FIFO" >"$WORK/fauxqs.log" 2>&1 &
FAUXQS=$!
exec 9>"$FIFO"  # the emulator exits when this closes (end of script)
trap 'exec 9>&-; kill $FAUXQS 2>/dev/null; rm -rf "$WORK"' EXIT
for i in $(seq 1 50); do grep -q FAUXQS_LISTENING "$WORK/fauxqs.log" && break; sleep 0.1; done
PORT=$(awk '/FAUXQS_LISTENING/{print $2}' "$WORK/fauxqs.log")
[ -n "$PORT" ] || { echo "fauxqs did not start"; cat "$WORK/fauxqs.log"; exit 1; }
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-west-2 AWS_PAGER=
unset AWS_PROFILE CAIRN_DATA || true
cd "$WORK"
FLAGS="--skip all --trail-layout per-region --regions site --out-dir out --quiet"
"$CAIRN" --log-level warn provision apply $FLAGS >apply.txt
"$CAIRN" --log-level warn provision plan $FLAGS >plan.txt
grep -q "Plan: 0 to create, 0 to change, 0 to delete, 13 unchanged." plan.txt || { cat apply.txt plan.txt; exit 1; }
grep -q "sqs_queue = cairn-cloudtrail" out/inputs.conf

python3 - <<'PY'
import gzip, json
recs = [{"eventVersion": "1.08", "eventTime": "2024-01-15T12:0%d:00Z" % i, "eventSource": "iam.amazonaws.com",
         "eventName": "CreateUser", "awsRegion": "eu-west-1", "eventID": "e2e-%d" % i,
         "recipientAccountId": "000000000000", "userIdentity": {"type": "Root", "accountId": "000000000000"},
         "sourceIPAddress": "203.0.113.9"} for i in range(3)]
open("log.json.gz", "wb").write(gzip.compress(json.dumps({"Records": recs}).encode()))
PY
KEY=AWSLogs/000000000000/CloudTrail/eu-west-1/2024/01/15/000000000000_CloudTrail_eu-west-1_20240115T1200Z_e2e.json.gz
aws() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
aws s3 cp --quiet log.json.gz "s3://cairn-cloudtrail-000000000000/$KEY"
aws sns publish --region eu-west-1 --topic-arn arn:aws:sns:eu-west-1:000000000000:cairn-cloudtrail \
  --message "{\"s3Bucket\":\"cairn-cloudtrail-000000000000\",\"s3ObjectKey\":[\"$KEY\"]}" >/dev/null
"$CAIRN" --log-level warn --data data collect --config out/cairn.toml --until-idle 2 >collect.txt
grep -q "3 events stored" collect.txt || { cat collect.txt; exit 1; }
"$CAIRN" --data data search 'index=aws-cloudtrail eventName=CreateUser | stats count by eventID' >search.txt
for id in e2e-0 e2e-1 e2e-2; do grep -q "\"$id\"" search.txt || { cat search.txt; exit 1; }; done
"$CAIRN" --log-level warn provision destroy $FLAGS >destroy.txt
grep -q "done: - sqs queue cairn-cloudtrail" destroy.txt || { cat destroy.txt; exit 1; }
echo "ok: provisioned, delivered, collected 3 events, destroyed"
