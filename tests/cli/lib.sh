# Shared by the shell-driven CLI tests (sourced, POSIX sh).
#
# A test sets BIN (the build's bin/), GOLD (the golden directory) and WORK
# (its temporary directory) and then:
#   run NAME CODE CMD...   runs CMD with stdout in $WORK/out/NAME.out and
#                          stderr in NAME.err and fails unless it exits CODE
#   golden NAME [err]      compares NAME.out (or .err) with $GOLD/NAME.out
#                          after normalizing what changes from run to run
#                          (hashes, times, heights, cursors, ports, the
#                          temporary directory); HANSA_GOLDEN_UPDATE=1
#                          writes the golden file instead
#   contains NAME TEXT     fails unless NAME.out or NAME.err contains TEXT
#   fail MESSAGE           records a failure (the test goes on, and exits 1
#                          at the end)
#   finish                 prints the summary; exit status 0 or 1

FAILURES=0
CHECKS=0

fail() {
    FAILURES=$((FAILURES + 1))
    echo "FAIL: $*" >&2
}

show() {
    echo "---- stdout of $1 ----" >&2
    cat "$WORK/out/$1.out" >&2
    echo "---- stderr of $1 ----" >&2
    cat "$WORK/out/$1.err" >&2
    echo "----" >&2
}

run() {
    name=$1
    want=$2
    shift 2
    mkdir -p "$WORK/out"
    "$@" >"$WORK/out/$name.out" 2>"$WORK/out/$name.err"
    got=$?
    CHECKS=$((CHECKS + 1))
    if [ "$got" -ne "$want" ]; then
        fail "$name: exit status $got, expected $want: $*"
        show "$name"
        return 1
    fi
    return 0
}

normalize() {
    sed -E \
        -e "s|$WORK|<DIR>|g" \
        -e 's/[0-9a-f]{64}/<HASH>/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/<TIME>/g' \
        -e 's/"([a-z_]*_ms)":[1-9][0-9]*/"\1":<MS>/g' \
        -e 's/"([a-z_]*height)":[1-9][0-9]*/"\1":<H>/g' \
        -e 's/(height,? +)[0-9]+/\1<H>/g' \
        -e 's/^[0-9]+ +<TIME>/<H>  <TIME>/' \
        -e 's/(<TIME>  <TIME>  )[0-9]+$/\1<H>/' \
        -e 's/^[0-9]+:[0-9]+ +/<CURSOR>    /' \
        -e 's/(after|cursor) [0-9]+:[0-9]+/\1 <CURSOR>/g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<PORT>/g'
}

golden() {
    name=$1
    ext=${2:-out}
    CHECKS=$((CHECKS + 1))
    normalize <"$WORK/out/$name.$ext" >"$WORK/out/$name.$ext.norm"
    if [ "${HANSA_GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$WORK/out/$name.$ext.norm" "$GOLD/$name.$ext"
        return 0
    fi
    if [ ! -f "$GOLD/$name.$ext" ]; then
        fail "$name: no golden file $GOLD/$name.$ext (HANSA_GOLDEN_UPDATE=1 writes it)"
        return 1
    fi
    if ! diff -u "$GOLD/$name.$ext" "$WORK/out/$name.$ext.norm" >&2; then
        fail "$name: output differs from $GOLD/$name.$ext (diff above)"
        return 1
    fi
    return 0
}

contains() {
    CHECKS=$((CHECKS + 1))
    if ! grep -qF -- "$2" "$WORK/out/$1.out" "$WORK/out/$1.err"; then
        fail "$1: output lacks '$2'"
        show "$1"
        return 1
    fi
    return 0
}

finish() {
    if [ "$FAILURES" -ne 0 ]; then
        echo "$FAILURES of $CHECKS checks failed; outputs kept in $WORK/out" >&2
        exit 1
    fi
    echo "all $CHECKS checks passed"
    exit 0
}
