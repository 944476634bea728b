#!/usr/bin/env bash
# Run CTest in a build directory and end with one summary line counting every
# individual test case (Criterion cases and plain CTest entries):
#   tests: N passed, N failed
# Extra arguments go to ctest (e.g. -L unit).
set -uo pipefail
build=${1:?usage: run-tests.sh BUILD_DIR [ctest args...]}
shift
jobs=$(nproc 2>/dev/null || echo 2)

# --no-tests=error: a build without tests (no Criterion) must not pass.
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" "$@"
rc=$?

# Criterion prints "[====] Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C"
# for each binary; entries without such a line (scripts) count as one case each.
log="$build/Testing/Temporary/LastTest.log"
read -r passed failed < <(awk '
  /^[0-9]+\/[0-9]+ Testing: /      { entry = 1; synth = 0; next }
  /Synthesis: Tested:/             { split($0, a, "|");
                                     gsub(/[^0-9]/, "", a[2]); gsub(/[^0-9]/, "", a[3]);
                                     p += a[2]; f += a[3]; synth = 1; next }
  /^Test Passed\./                 { if (entry && !synth) p++; entry = 0; next }
  /^Test Failed\./                 { if (entry && !synth) f++; entry = 0; next }
  /^Test (Failed|Passed)/          { next }
  END { printf "%d %d\n", p, f }' "$log" 2>/dev/null || echo "0 0")
# A failing CTest entry whose output had no Synthesis line (crash, timeout) must
# still show as a failure.
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "tests: ${passed} passed, ${failed} failed"
exit $rc
