#!/usr/bin/env bash
# make demo: four validators on this machine and one trade recorded, financed
# and protected from double financing on them, told step by step.
#
#   scripts/demo.sh [BUILD_DIR]     (make demo builds first, then runs this)
#
# The network lives in $HANSA_DEMO_DIR (default ./demo-net):
#   ca/ node0..node3/ parties/   what `hansad testnet` wrote (keys, certificates,
#                                genesis, configs); node<i>/data is node i's ledger
#   logs/node<i>.log             each node's log; logs/trade-flow.log the story
#   run/node<i>.pid              the running nodes (make demo-stop reads them)
#   demo.env                     export lines for the hansa CLI
# Ports: $HANSA_DEMO_BASE_PORT (default 26600); node i serves clients on
# tls+tcp://127.0.0.1:P+10i+1 (TLS server name node<i>).
#
# Already running: says so and changes nothing (exit 1). Stopped: the same
# network is started again and reused; its ledger keeps what earlier runs
# recorded, and the trade flow picks new ids each run. Remove the directory
# (after make demo-stop) for a fresh network.
#
# Waits are on conditions with deadlines: a node is up when its log says
# NODE-START (its client API listens), and the trade flow itself waits until
# every node answers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ "$build" == /* ]] || build="$root/$build"
bin="$build/bin"
dir=${HANSA_DEMO_DIR:-$root/demo-net}
[[ "$dir" == /* ]] || dir="$PWD/$dir"
base_port=${HANSA_DEMO_BASE_PORT:-26600}
validators=4
start_deadline_s=60

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# ---- what is there -------------------------------------------------------------

for b in hansad trade_flow; do
  [[ -x "$bin/$b" ]] || die "$bin/$b is not built; run make demo (it builds first)"
done

# The pid in run/node<i>.pid when that process is still this demo's hansad.
node_pid() {
  local pidfile="$dir/run/node$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "hansad start --home $dir/node$1 " ||
    return 1
  printf '%s\n' "$pid"
}

running=()
for ((i = 0; i < validators; i++)); do
  if pid=$(node_pid "$i"); then running+=("node$i (pid $pid)"); fi
done
if [[ ${#running[@]} -gt 0 ]]; then
  say "A demo network is already running in $dir: ${running[*]}."
  say "Nothing was changed. Use it with the hansa CLI (. $dir/demo.env; hansa status),"
  say "or stop it first with: make demo-stop"
  exit 1
fi

# The base port of an existing network: node0's TLS client API port - 1.
existing_base_port() {
  local port
  port=$(sed -n 's|^listen_tls = tls+tcp://127.0.0.1:\([0-9]*\)$|\1|p' "$dir/node0/config.ini")
  [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the client API port from $dir/node0/config.ini"
  printf '%s\n' $((port - 1))
}

complete_network() {
  [[ -d "$dir/parties" && -f "$dir/parties/identity.key" ]] || return 1
  for ((i = 0; i < validators; i++)); do
    [[ -f "$dir/node$i/config.ini" ]] || return 1
  done
}

reuse=false
if [[ -d "$dir" ]] && complete_network; then
  reuse=true
  base_port=$(existing_base_port)
elif [[ -e "$dir" && -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
  die "$dir exists but holds no complete demo network; remove it or set HANSA_DEMO_DIR"
fi
[[ "$base_port" =~ ^[0-9]+$ && "$base_port" -ge 1024 && "$base_port" -le 65000 ]] ||
  die "HANSA_DEMO_BASE_PORT must be a port number from 1024 to 65000"

# Every port of the network must be free (nothing accepts a connection).
for ((i = 0; i < validators; i++)); do
  for off in 0 1 2 3; do
    port=$((base_port + 10 * i + off))
    if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      if $reuse; then
        die "port $port of the stopped demo network in $dir is in use by another program; stop that program, or remove $dir and choose other ports with HANSA_DEMO_BASE_PORT=P"
      fi
      die "port $port is in use by another program; choose other ports with HANSA_DEMO_BASE_PORT=P (node i uses P+10i .. P+10i+3)"
    fi
  done
done

# ---- the network ---------------------------------------------------------------

if $reuse; then
  say "Reusing the stopped demo network in $dir (its ledger keeps earlier runs;"
  say "remove the directory after make demo-stop for a fresh one)."
else
  say "Creating a network of $validators validators in $dir: a consortium CA, node keys and"
  say "TLS certificates, keys of the demo parties, one genesis, a config per node."
  out=$("$bin/hansad" testnet --validators "$validators" --dir "$dir" --base-port "$base_port" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "hansad testnet failed"; }
  mkdir -p "$dir/logs"
  printf '%s\n' "$out" >"$dir/logs/testnet.log"
fi
mkdir -p "$dir/logs" "$dir/run"

# Node i's log size before this start, so only this start's lines count.
declare -a log_offset
for ((i = 0; i < validators; i++)); do
  log="$dir/logs/node$i.log"
  log_offset[i]=$( [[ -f "$log" ]] && stat -c %s "$log" || echo 0)
  # setsid: the nodes live on after this script and ignore its terminal's Ctrl-C.
  setsid "$bin/hansad" start --home "$dir/node$i" >>"$log" 2>&1 </dev/null &
  echo $! >"$dir/run/node$i.pid"
done
say "Starting node0..node$((validators - 1)) in the background (logs in $dir/logs)."

stop_all() { HANSA_DEMO_DIR="$dir" "$root/scripts/demo-stop.sh" >&2 || true; }

node_started() { tail -c +$((log_offset[$1] + 1)) "$dir/logs/node$1.log" | grep -q 'NODE-START'; }

deadline=$((SECONDS + start_deadline_s))
for ((i = 0; i < validators; i++)); do
  until node_started "$i"; do
    if ! node_pid "$i" >/dev/null; then
      say "node$i stopped while starting; the end of its log:" >&2
      tail -n 20 "$dir/logs/node$i.log" >&2
      stop_all
      die "the network did not start"
    fi
    if ((SECONDS >= deadline)); then
      stop_all
      die "node$i did not start within ${start_deadline_s}s; see $dir/logs/node$i.log"
    fi
    sleep 0.1 # polling interval of the condition above
  done
done
say "All $validators nodes are up."

cat >"$dir/demo.env" <<EOF
# The hansa CLI against the demo network (. $dir/demo.env), as the regulator
# CUS-0001, who may read everything. Other parties' keys: $dir/parties/<ID>.key
export PATH="$bin:\$PATH"
export HANSA_NODE=tls+tcp://127.0.0.1:$((base_port + 1))
export HANSA_SERVER_NAME=node0
export HANSA_CA=$dir/parties/ca.crt
export HANSA_KEY=$dir/parties/CUS-0001.key
EOF

# ---- the story -----------------------------------------------------------------

tag=$(date -u +%Y%m%d-%H%M%S)
say ""
if ! "$bin/trade_flow" --net "$dir" --base-port "$base_port" --nodes "$validators" --tag "$tag" |
  tee "$dir/logs/trade-flow.log"; then
  die "the trade flow did not finish as expected (above); the nodes keep running: make demo-stop"
fi

cli_note=""
[[ -x "$bin/hansa" ]] || cli_note=" (not built in $build yet)"
cat <<EOF

----------------------------------------------------------------------------
The network keeps running. Drive it with the hansa CLI$cli_note:

  export PATH="$bin:\$PATH"
  export HANSA_NODE=tls+tcp://127.0.0.1:$((base_port + 1))
  export HANSA_SERVER_NAME=node0
  export HANSA_CA=$dir/parties/ca.crt
  export HANSA_KEY=$dir/parties/CUS-0001.key

  (the same lines are in $dir/demo.env: . $dir/demo.env)

  hansa status
  hansa order get --merchant MER-SZ-0001 --order-no SO-$tag
  hansa finance get --merchant MER-SZ-0001 --financing-id FIN-$tag-A
  hansa history financing MER-SZ-0001 FIN-$tag-A
  hansa alerts list

Every command explains itself with --help (hansa --help lists them).

HANSA_KEY above is the regulator's, who may read everything; to act as another
party point it at $dir/parties/<ID>.key (MER-SZ-0001, PAY-0001, LOG-0001,
BANK-A, BANK-B). Nodes 1-3 serve on ports $((base_port + 11)), $((base_port + 21)), $((base_port + 31)) (server names
node1..node3). Watch alerts as they happen:

  $bin/alert_watch --node \$HANSA_NODE --ca \$HANSA_CA --server-name node0 \\
      --key \$HANSA_KEY --cursor-file $dir/alerts.cursor

Logs: $dir/logs/. Stop the network with: make demo-stop
EOF
