#!/usr/bin/env bash
# make demo-stop: stop the nodes `make demo` started.
#
#   scripts/demo-stop.sh            (the network in $HANSA_DEMO_DIR, default ./demo-net)
#
# Sends SIGTERM to every node named in <dir>/run/node<i>.pid that is still
# that demo's hansad (a pid file whose process is gone, or whose pid now
# belongs to another program, is only removed), then waits up to 60 s for
# each to finish its clean shutdown. The network and its ledger stay in the
# directory: make demo starts it again. Exit 0 when no node is left running.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${HANSA_DEMO_DIR:-$root/demo-net}
[[ "$dir" == /* ]] || dir="$PWD/$dir"
stop_deadline_s=60

# True when pid is alive and is `hansad start --home <dir>/node<i>`.
is_demo_node() {
  kill -0 "$1" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "hansad start --home $dir/node$2 "
}

shopt -s nullglob
pidfiles=("$dir"/run/node*.pid)
names=()
pids=()
for f in "${pidfiles[@]}"; do
  name=$(basename "$f" .pid)
  pid=$(<"$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && is_demo_node "$pid" "${name#node}"; then
    kill -TERM "$pid"
    names+=("$name")
    pids+=("$pid")
  else
    rm -f "$f"
  fi
done

if [[ ${#pids[@]} -eq 0 ]]; then
  echo "No demo network is running in $dir."
  exit 0
fi
echo "Stopping ${names[*]} (SIGTERM) ..."

deadline=$((SECONDS + stop_deadline_s))
left=()
for k in "${!pids[@]}"; do
  while is_demo_node "${pids[k]}" "${names[k]#node}"; do
    if ((SECONDS >= deadline)); then
      left+=("${names[k]} (pid ${pids[k]})")
      continue 2
    fi
    sleep 0.1 # polling interval of the condition above
  done
  rm -f "$dir/run/${names[k]}.pid"
done

if [[ ${#left[@]} -gt 0 ]]; then
  echo "demo-stop: still running after ${stop_deadline_s}s: ${left[*]}; see $dir/logs/" >&2
  exit 1
fi
echo "Stopped. The network stays in $dir: make demo starts it again."
