#!/usr/bin/env bash
# Builds the libFuzzer targets into build-fuzz (clang, ASan + UBSan over the whole tree) and runs
# each briefly, seeded from ../shared/data at run time, and fuzz_segment / fuzz_manifest from
# segments and manifests the real writer makes (segment_seeds) plus the committed format 2 and 3
# segments. Usage: fuzz/run.sh [SECONDS_PER_TARGET] (or FUZZ_SECONDS; FUZZ_TARGETS picks targets)
# Findings (crash-*, leak-*, timeout-*) are left in build-fuzz/findings/<target>/; turn each into
# a regression test beside the code it broke.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-30}}"
BUILD=build-fuzz
DATA="${CAIRN_SHARED_DATA:-$PWD/../shared/data}"

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_FUZZ=ON -DCAIRN_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
fi
TARGETS="${FUZZ_TARGETS:-fuzz_reader fuzz_gunzip fuzz_scan fuzz_spl fuzz_notification fuzz_segment fuzz_manifest fuzz_digest fuzz_billing fuzz_zip fuzz_sigma}"
# shellcheck disable=SC2086
ninja -C "$BUILD" -j "${JOBS:-2}" $TARGETS segment_seeds
SEEDS="$BUILD/seeds"
rm -rf "$SEEDS"
ASAN_OPTIONS=detect_leaks=0 "$BUILD/fuzz/segment_seeds" "$SEEDS/segment" "$SEEDS/manifest" "$DATA" >/dev/null
# fuzz_billing: a generated report's manifest and the start of its CSV (cairn generate --billing).
if [ -x build/src/cli/cairn ]; then
  build/src/cli/cairn generate --billing --out "$SEEDS/cur" --rows 40 --assemblies 1 >/dev/null
  mkdir -p "$SEEDS/billing"
  find "$SEEDS/cur" -name '*-Manifest.json' -exec cp {} "$SEEDS/billing/" \;
  find "$SEEDS/cur" -name '*.csv.gz' -exec sh -c 'gunzip -c "$1" > "$2/$(basename "$1" .gz)"' _ {} "$SEEDS/billing" \;
  # fuzz_zip: a generated DBR object and a ZIP-compressed CUR file.
  build/src/cli/cairn generate --billing --dbr --out "$SEEDS/dbr" --rows 20 --assemblies 1 >/dev/null
  build/src/cli/cairn generate --billing --out "$SEEDS/curzip" --rows 30 --assemblies 1 --compression zip >/dev/null
  mkdir -p "$SEEDS/zip"
  find "$SEEDS/dbr" "$SEEDS/curzip" -name '*.zip' -exec cp {} "$SEEDS/zip/" \;
fi

# Seed folders for each target, read in place (never copied into the repository).
seeds_for() {
  case "$1" in
    fuzz_reader) echo "$DATA/cloudtrail/aws-docs $DATA/cloudtrail/malformed $DATA/notifications $DATA/digest $DATA/cloudtrail/invictus/s3_layout" ;;
    fuzz_gunzip) echo "$DATA/cloudtrail/invictus/s3_layout" ;;
    fuzz_scan) echo "$DATA/cloudtrail/aws-docs $DATA/cloudtrail/malformed" ;;
    fuzz_spl) echo "$DATA/spl/security_content" ;;
    fuzz_sigma) echo "$DATA/sigma/rules" ;;
    fuzz_notification) echo "$DATA/notifications $DATA/cloudtrail/aws-docs" ;;
    fuzz_segment) echo "$SEEDS/segment $PWD/src/store/testdata" ;;
    fuzz_manifest) echo "$SEEDS/manifest" ;;
    fuzz_digest) echo "$DATA/digest" ;;
    fuzz_billing) echo "$SEEDS/billing" ;;
    fuzz_zip) echo "$SEEDS/zip" ;;
  esac
}

status=0
for target in $TARGETS; do
  corpus="$BUILD/corpus/$target"
  findings="$BUILD/findings/$target"
  mkdir -p "$corpus" "$findings"
  seeds=""
  for dir in $(seeds_for "$target"); do
    [ -d "$dir" ] && seeds="$seeds $dir"
  done
  [ -z "$seeds" ] && echo "note: no seed data under $DATA; $target starts from an empty corpus"
  echo "== $target for ${SECONDS_PER_TARGET}s"
  # shellcheck disable=SC2086
  if ! "$BUILD/fuzz/$target" "$corpus" $seeds -max_total_time="$SECONDS_PER_TARGET" \
      -max_len=262144 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$findings/" 2>"$BUILD/$target.log"; then
    echo "!! $target found a problem; see $BUILD/$target.log and $findings/"
    tail -n 30 "$BUILD/$target.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$BUILD/$target.log" || true
  fi
done
exit $status
