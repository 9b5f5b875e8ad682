#!/usr/bin/env bash
# make demo: generate one day of CloudTrail logs for a small organisation (with the embedded attack
# scenarios), ingest them into a fresh data folder, and show a few searches with their answers.
set -euo pipefail
CAIRN=${1:-build/src/cli/cairn}
DIR=${2:-demo-data}
rm -rf "$DIR"
mkdir -p "$DIR"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "generate: one day, 3 accounts, 4 regions, 300k events, attack scenarios embedded"
"$CAIRN" generate --out "$DIR/logs" --events 300000 --seed 42 --days 1 --accounts 3 --regions 4

step "ingest into $DIR/data"
"$CAIRN" --data "$DIR/data" ingest "$DIR/logs/AWSLogs"

if "$CAIRN" index --help >/dev/null 2>&1; then
  step "index list"
  "$CAIRN" --data "$DIR/data" index list
fi

if "$CAIRN" search --help >/dev/null 2>&1; then
  run() { step "search: $1"; "$CAIRN" --data "$DIR/data" search --format table "$1"; }
  run 'eventName=StopLogging OR eventName=DeleteTrail | table _time, eventName, userIdentity.arn, sourceIPAddress'
  run 'eventName=ConsoleLogin userIdentity.type=Root additionalEventData.MFAUsed=No | table _time, userIdentity.arn, sourceIPAddress, responseElements.ConsoleLogin'
  run 'eventName=AttachUserPolicy requestParameters.policyArn=*AdministratorAccess | table _time, userIdentity.arn, requestParameters.userName, sourceIPAddress'
  run 'errorCode=AccessDenied | bin _time span=5m | stats count by _time, sourceIPAddress | where count > 20'
  run '`cloudtrail` | stats count by eventSource | sort -count | head 10'
fi
step "done: data in $DIR/data, logs in $DIR/logs (scenarios listed in $DIR/logs/scenarios.json)"
if "$CAIRN" serve --help >/dev/null 2>&1; then
  echo "to search in a browser: CAIRN_ADMIN_PASSWORD='pick-a-password' $CAIRN serve --data $DIR/data"
  echo "  then open http://127.0.0.1:8000/ and sign in as admin (the REST API is on :8089)"
fi
