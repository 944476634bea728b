#!/usr/bin/env bash
# Run every libFuzzer target of a fuzz build for a bounded time each.
#   scripts/run-fuzz.sh BUILD_DIR SECONDS_PER_TARGET
# Corpora live in BUILD_DIR/corpus/<target> (kept between runs), seeded from
# the known-answer transactions of tests/vectors/tx.txt. A crash leaves its
# input as BUILD_DIR/crash-* and makes this script fail.
set -euo pipefail
build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)

seed() { # seed TARGET: write the vector bodies / envelopes as corpus files
  local dir=$build/corpus/$1 key=$2 prefix=$3 n=0
  mkdir -p "$dir"
  grep "^$key = " "$root/tests/vectors/tx.txt" | while read -r _ _ hex; do
    n=$((n + 1))
    printf '%s%s' "$prefix" "$hex" | xxd -r -p > "$dir/vector-$key-$n"
  done
}
seed fuzz_tx tx ""
seed fuzz_tx body "80"    # first byte: a signer index with "force valid ids"
seed fuzz_decode tx "00"  # first byte: the tx decoder
seed fuzz_decode body "01"

failed=0
for target in fuzz_tx fuzz_decode; do
  echo "fuzz: $target for ${seconds}s"
  if ! (cd "$build" && "./bin/$target" -max_total_time="$seconds" -print_final_stats=1 \
          -rss_limit_mb=2048 -max_len=70000 "corpus/$target" 2>&1 | tail -n 12); then
    echo "fuzz: $target FAILED (see $build/crash-*)"
    failed=1
  fi
done
[[ $failed -eq 0 ]] && echo "fuzz: no crash in any target"
exit $failed
