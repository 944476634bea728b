#!/usr/bin/env bash
# examples_demo_script: what `make demo` runs after building, on free ports in
# a temporary directory:
#   1. scripts/demo.sh creates and starts four validators, tells the trade and
#      prints the CLI instructions (exit 0);
#   2. a second scripts/demo.sh while it runs refuses and changes nothing;
#   3. scripts/demo-stop.sh stops every node (SIGTERM) and waits;
#   4. scripts/demo.sh again reuses the stopped network, tells a second trade;
#   5. scripts/demo-stop.sh again.
# The nodes are stopped and the directory removed on every exit path.
#
#   test_demo.sh SOURCE_DIR BUILD_DIR
#
# Exit 0 pass, 1 fail.
set -euo pipefail

src=${1:?usage: test_demo.sh SOURCE_DIR BUILD_DIR}
build=${2:?usage: test_demo.sh SOURCE_DIR BUILD_DIR}

HANSA_DEMO_DIR=$(mktemp -d /tmp/hansa-demo-test-XXXXXX)
export HANSA_DEMO_DIR
out="$HANSA_DEMO_DIR.out"
cleanup() {
  "$src/scripts/demo-stop.sh" >/dev/null 2>&1 || true
  rm -rf "$HANSA_DEMO_DIR" "$out"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  [[ -f "$out" ]] && sed 's/^/  | /' "$out" >&2
  exit 1
}

# A base port P with P..P+33 free (nothing accepts a connection), below 32768.
listening() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=""
for _ in $(seq 1 50); do
  p=$((12000 + (RANDOM % 2000) * 10))
  free=true
  for ((k = 0; k < 34; k++)); do
    if listening $((p + k)); then free=false; break; fi
  done
  if $free; then base=$p; break; fi
done
[[ -n "$base" ]] || fail "no free ports found"
export HANSA_DEMO_BASE_PORT=$base
rmdir "$HANSA_DEMO_DIR" # demo.sh creates it (hansad testnet wants it absent or empty)

expect() { grep -qF -- "$1" "$out" || fail "no \"$1\" in the output"; }

# 1. a fresh network and the story
"$src/scripts/demo.sh" "$build" >"$out" 2>&1 || fail "demo.sh exited with $?"
expect "Creating a network of 4 validators"
expect "All 4 nodes are up."
expect "ledger: REJECTED ASSET_ALREADY_PLEDGED"
expect "Trade flow complete"
expect "export HANSA_NODE=tls+tcp://127.0.0.1:$((base + 1))"
expect "export HANSA_KEY=$HANSA_DEMO_DIR/parties/CUS-0001.key"
expect "hansa order get --merchant MER-SZ-0001 --order-no SO-"
expect "make demo-stop"
for i in 0 1 2 3; do
  [[ -s "$HANSA_DEMO_DIR/run/node$i.pid" ]] || fail "no pid file for node$i"
  kill -0 "$(<"$HANSA_DEMO_DIR/run/node$i.pid")" || fail "node$i is not running"
done
grep -q "^export HANSA_CA=$HANSA_DEMO_DIR/parties/ca.crt$" "$HANSA_DEMO_DIR/demo.env" ||
  fail "demo.env lacks HANSA_CA"
pids=$(cat "$HANSA_DEMO_DIR"/run/node*.pid)

# 2. a second demo while it runs
if "$src/scripts/demo.sh" "$build" >"$out" 2>&1; then fail "a second demo.sh did not refuse"; fi
expect "already running"
[[ "$(cat "$HANSA_DEMO_DIR"/run/node*.pid)" == "$pids" ]] || fail "the refusal changed pid files"

# 3. stop
"$src/scripts/demo-stop.sh" >"$out" 2>&1 || fail "demo-stop.sh exited with $?"
expect "Stopped."
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null && [[ -s "/proc/$pid/cmdline" ]]; then
    fail "node pid $pid still runs after demo-stop"
  fi
done
for i in 0 1 2 3; do
  grep -q "NODE-STOP" "$HANSA_DEMO_DIR/logs/node$i.log" || fail "node$i did not stop cleanly"
done

# 4. reuse the stopped network
"$src/scripts/demo.sh" "$build" >"$out" 2>&1 || fail "demo.sh on the stopped network exited with $?"
expect "Reusing the stopped demo network"
expect "Trade flow complete"

# 5. stop again
"$src/scripts/demo-stop.sh" >"$out" 2>&1 || fail "the second demo-stop.sh exited with $?"
expect "Stopped."
echo "ok: demo.sh created, refused, stopped, reused and stopped a 4-validator network on port $base"
