#!/usr/bin/env bash
# hansa-bench runs: --help and a bad option answer as documented, and a short
# run against a fresh one-validator TLS testnet commits transactions and
# prints its RESULT line (the real measurement is `make bench`). A second
# run takes no tx/ events (--receipts poll): every receipt must then come
# from the reconciler's GetReceipt polling, none may be lost, and the run
# must still commit (a dropped receipt must not stall the bench).
set -euo pipefail
bin=${1:?usage: test_bench.sh BIN_DIR}
fail() { echo "test_bench: $*" >&2; exit 1; }

"$bin/hansa-bench" --help > /tmp/hansa-bench-help.$$ || fail "--help exited $?"
grep -q "usage: hansa-bench" /tmp/hansa-bench-help.$$ || fail "--help printed no usage"
rm -f /tmp/hansa-bench-help.$$

set +e
"$bin/hansa-bench" --no-such-option 2> /dev/null
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "a bad option exited $rc, expected 2"

out=$("$bin/hansa-bench" --validators 1 --clients 4 --seconds 3 --warmup 1 --max-tps 300 \
      --hansad "$bin/hansad" 2>&1) || fail "the short run failed: $out"
line=$(grep '^RESULT label=max ' <<< "$out") || fail "no RESULT line in: $out"
tps=$(sed -E 's/.* tps=([0-9]+).*/\1/' <<< "$line")
[[ $tps -gt 0 ]] || fail "nothing committed: $line"
echo "test_bench: $line"

out=$("$bin/hansa-bench" --validators 1 --clients 4 --seconds 3 --warmup 1 --max-tps 300 \
      --receipts poll --hansad "$bin/hansad" 2>&1) || fail "the polling run failed: $out"
line=$(grep '^RESULT label=max ' <<< "$out") || fail "no RESULT line in: $out"
field() { sed -nE "s/.* $1=([0-9]+).*/\1/p" <<< "$line"; }
[[ $(field tps) -gt 0 ]] || fail "nothing committed when polling: $line"
[[ $(field recovered) -gt 0 ]] || fail "no receipt came from polling: $line"
[[ $(field lost) -eq 0 ]] || fail "transactions lost: $line"
echo "test_bench: $line"
