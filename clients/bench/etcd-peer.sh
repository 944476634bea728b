#!/usr/bin/env bash
# The peer of hansa-bench (ISSUE 7): a 3-member etcd cluster (Debian's
# etcd-server) on loopback, written through its HTTP/JSON gateway
# (POST /v3/kv/put, base64 key and value) by wrk (Debian) with a Lua script,
# the same number of records of the same size at the same concurrency as the
# hansa run, spread over the three members. Prints puts/s, then removes the
# cluster. Last line, machine-readable:  ETCD puts_per_s=N records=N size=N clients=N
#
#   clients/bench/etcd-peer.sh [--records N] [--size BYTES] [--clients C] [--max-seconds S]
#
# Installs etcd-server and wrk with apt-get (through sudo when not root) if
# they are missing, like scripts/deps.sh.
set -euo pipefail

records=100000
size=300
clients=32
max_seconds=120
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) records="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --max-seconds) max_seconds="$2"; shift 2 ;;
    *) echo "usage: $0 [--records N] [--size BYTES] [--clients C] [--max-seconds S]" >&2; exit 2 ;;
  esac
done

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [[ ${#need[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  echo "etcd-peer: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

dir=$(mktemp -d /tmp/hansa-etcd-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=0
for _ in $(seq 1 100); do
  b=$(( 20000 + (RANDOM % 1200) * 10 ))
  ok=1
  for k in 0 1 2 3 4 5; do port_free $((b + k)) || ok=0; done
  if [[ $ok == 1 ]]; then base=$b; break; fi
done
[[ $base != 0 ]] || { echo "etcd-peer: no free ports" >&2; exit 1; }

cluster=""
for i in 0 1 2; do
  cluster+="${cluster:+,}m$i=http://127.0.0.1:$((base + 2 * i + 1))"
done
for i in 0 1 2; do
  cp=$((base + 2 * i)); pp=$((base + 2 * i + 1))
  etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
    --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token hansa-bench \
    --quota-backend-bytes 8589934592 --log-level error >"$dir/m$i.log" 2>&1 &
  pids+=($!)
done

# Wait for a leader: a put through the gateway answers with a header.
for _ in $(seq 1 100); do
  if curl -sf -X POST -d '{"key":"cHJvYmU=","value":"MQ=="}' "http://127.0.0.1:$base/v3/kv/put" \
      >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -sf -X POST -d '{"key":"cHJvYmU=","value":"MQ=="}' "http://127.0.0.1:$base/v3/kv/put" >/dev/null \
  || { echo "etcd-peer: the cluster did not come up; logs in $dir" >&2; cat "$dir/m0.log" >&2; exit 1; }

# One wrk per member, clients/3 connections each (at least 1), records/3 puts each.
per_member=$(( (records + 2) / 3 ))
conns=$(( clients / 3 )); [[ $conns -ge 1 ]] || conns=1
cat >"$dir/put.lua" <<'LUA'
-- POST /v3/kv/put with a unique base64 key per request and a value of SIZE
-- bytes; each thread stops after its share of RECORDS responses.
local b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function enc(data)
  return ((data:gsub('.', function(x)
    local r, b = '', x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b64:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
local function now_ns()
  local f = io.popen("date +%s%N")
  local t = tonumber(f:read("*l"))
  f:close()
  return t
end
local threads, tid = {}, 0
function setup(thread)
  tid = tid + 1
  thread:set("id", tid)
  table.insert(threads, thread)
end
function init(args)
  size = tonumber(args[1]); share = tonumber(args[2]); member = args[3]
  value = enc(string.rep('v', size))
  sent, ndone, errors = 0, 0, 0
  t_start, t_end = now_ns(), 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  sent = sent + 1
  local key = enc(string.format("bench/%s/%d/%09d", member, id, sent))
  return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
function response(status, headers, body)
  ndone = ndone + 1
  if status ~= 200 then errors = errors + 1 end
  if ndone == share then
    t_end = now_ns()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  -- wrk's own duration is always -d: time the work from the threads' clocks
  local e, t0, t1 = 0, nil, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    local s, f = t:get("t_start"), t:get("t_end")
    if t0 == nil or s < t0 then t0 = s end
    if f == 0 then f = now_ns() end
    if f > t1 then t1 = f end
  end
  io.write(string.format("WRK requests=%d seconds=%.3f errors=%d p99_ms=%.1f\n",
    summary.requests, (t1 - t0) / 1e9, e, latency:percentile(99) / 1000))
end
LUA

threads=2; [[ $conns -ge 2 ]] || threads=1
share=$(( (per_member + threads - 1) / threads ))
echo "etcd-peer: 3 members on 127.0.0.1:$base..$((base + 5)); $records puts of $size-byte values, $clients connections"
wpids=()
for i in 0 1 2; do
  wrk -t "$threads" -c "$conns" -d "${max_seconds}s" --timeout 10s -s "$dir/put.lua" \
    "http://127.0.0.1:$((base + 2 * i))" -- "$size" "$share" "m$i" >"$dir/wrk$i.out" 2>&1 &
  wpids+=($!)
done
# wrk's main thread sleeps for all of -d even after every thread stopped;
# once etcd holds every record, SIGINT makes it print its summary at once.
want=$(( 3 * threads * share ))
range='{"key":"'$(printf 'bench/' | base64)'","range_end":"'$(printf 'bench0' | base64)'","count_only":true}'
while kill -0 "${wpids[0]}" 2>/dev/null; do
  sleep 0.5
  have=$(curl -sf -X POST -d "$range" "http://127.0.0.1:$base/v3/kv/range" \
    | sed -nE 's/.*"count":"?([0-9]+).*/\1/p')
  if [[ -n $have && $have -ge $want ]]; then
    sleep 0.5
    kill -INT "${wpids[@]}" 2>/dev/null || true
    break
  fi
done
for p in "${wpids[@]}"; do wait "$p" || true; done

total=0; secs=0; errs=0; p99=0
for i in 0 1 2; do
  line=$(grep '^WRK ' "$dir/wrk$i.out" || true)
  [[ -n $line ]] || { echo "etcd-peer: wrk failed:" >&2; cat "$dir/wrk$i.out" >&2; exit 1; }
  r=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")
  e=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")
  total=$((total + r)); errs=$((errs + e))
  secs=$(awk -v a="$secs" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
  p99=$(awk -v a="$p99" -v b="$p" 'BEGIN { print (b > a) ? b : a }')
done
rate=$(awk -v n="$total" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
echo "etcd-peer: $total puts in ${secs}s over 3 members: $rate puts/s ($errs non-200), p99 ${p99} ms"
echo "ETCD puts_per_s=$rate records=$total size=$size clients=$clients p99_ms=$p99 errors=$errs"
