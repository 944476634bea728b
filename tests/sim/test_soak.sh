#!/bin/sh
# sim_run's long-running modes as an operator meets them: a soak prints
# progress while it runs and its totals when SIGINT or SIGTERM stops it
# (exit 0: no violation), and bad arguments name the argument and exit 2.
#
#   test_soak.sh SIM_RUN
set -eu
sim_run=$1
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
pid=

fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout" >&2
    cat "$dir/out" >&2 || true
    echo "--- stderr" >&2
    cat "$dir/err" >&2 || true
    exit 1
}

for sig in INT TERM; do
    "$sim_run" --soak --from 1 --progress 1 >"$dir/out" 2>"$dir/err" &
    pid=$!
    # Two progress lines, within 60 s.
    tries=0
    while [ "$(grep -c '^sim_run: [0-9]* seeds in [0-9]* s' "$dir/err")" -lt 2 ]; do
        tries=$((tries + 1))
        [ "$tries" -le 600 ] || fail "no progress lines after 60 s"
        kill -0 "$pid" 2>/dev/null || fail "the soak ended by itself"
        sleep 0.1
    done
    kill -"$sig" "$pid"
    rc=0
    wait "$pid" || rc=$?
    pid=
    [ "$rc" -eq 0 ] || fail "SIG$sig: the soak exited $rc, not 0"
    grep -q '^soak stopped: seeds 1-[0-9]*: [0-9]* seeds ok' "$dir/out" ||
        fail "SIG$sig: no totals"
    grep -q 'violation' "$dir/out" && fail "SIG$sig: a violation"
    echo "SIG$sig: $(head -n 1 "$dir/out")"
done

# Bad arguments: exit 2, and the message names what is wrong.
check_usage() {
    want=$1
    shift
    rc=0
    "$sim_run" "$@" >"$dir/out" 2>"$dir/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "sim_run $*: exit $rc, not 2"
    grep -q -- "$want" "$dir/err" || fail "sim_run $*: no '$want' on stderr"
}
check_usage "--seeds wants a range A-B with A <= B, got '5-2'" --seeds 5-2
check_usage "--validators wants a count from 1 to" --validators 99 --seed 1
check_usage "--byzantine 5 is not one of the 4 validators" --seed 1 --byzantine 5
check_usage "unknown argument '--bogus'" --seed 1 --bogus
check_usage "give exactly one of --seed, --seeds and --soak" --seed 1 --soak
check_usage "--progress wants seconds" --soak --progress x
"$sim_run" --help | grep -q -- '--progress SECONDS' || fail "--help does not list --progress"
echo "usage errors: ok"
