#!/usr/bin/env bash
# `make bench`: hansa-bench at full speed and at half that rate (--half), then
# the etcd peer with as many records as hansa committed in its steady window,
# of the same body size, at the same concurrency. Prints a table and, last,
#   tps=… bound=… ratio_bound=… etcd=… ratio_etcd=… p99_ms=…
# where p99_ms is the commit latency at half of the maximum load.
#
#   clients/bench/make-bench.sh BUILD_DIR CLIENTS [hansa-bench options...]
set -euo pipefail
build="$1"; clients="$2"; shift 2
out=$(mktemp /tmp/hansa-bench-out-XXXXXX)
trap 'rm -f "$out"' EXIT

echo "bench: load before: $(uptime)"
"$build/bin/hansa-bench" --clients "$clients" --half "$@" | tee "$out"

field() { grep "^$1 " "$out" | grep "$2" | tail -1 | sed -nE "s/.* $3=([0-9.]+).*/\1/p"; }
tps=$(field RESULT label=max tps)
p99_max=$(field RESULT label=max p99_ms)
half_tps=$(field RESULT label=half tps)
p99=$(field RESULT label=half p99_ms)
bound=$(field BOUND bound bound)
per_core=$(field BOUND bound verify_per_core)
body=$(grep -m1 'mean body' "$out" | sed -nE 's/.*mean body ([0-9]+) bytes.*/\1/p')
seconds=$(grep -m1 '^== max:' "$out" | sed -nE 's/.*, ([0-9]+)s steady.*/\1/p')
[[ -n $tps && -n $bound ]] || { echo "bench: hansa-bench gave no result" >&2; exit 1; }
records=$(awk -v t="$tps" -v s="${seconds:-60}" 'BEGIN { n = int(t * s); print n < 1000 ? 1000 : n }')

echo "bench: load before etcd: $(uptime)"
etcd_out=$(clients/bench/etcd-peer.sh --records "$records" --size "${body:-300}" --clients "$clients" | tee -a /dev/stderr)
etcd=$(sed -nE 's/^ETCD puts_per_s=([0-9]+).*/\1/p' <<<"$etcd_out")
etcd_p99=$(sed -nE 's/^ETCD .* p99_ms=([0-9.]+).*/\1/p' <<<"$etcd_out")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }'; }
echo
printf '%-44s %12s\n' "measure" "value"
printf '%-44s %12s\n' "Ed25519 verify, one core (/s)" "$per_core"
printf '%-44s %12s\n' "bound = rate x cores / validators (tx/s)" "$bound"
printf '%-44s %12s\n' "hansa committed, max load (tx/s)" "$tps"
printf '%-44s %12s\n' "hansa p99 at max load (ms)" "$p99_max"
printf '%-44s %12s\n' "hansa committed, half load (tx/s)" "${half_tps:-}"
printf '%-44s %12s\n' "hansa p99 at half load (ms)" "${p99:-}"
printf '%-44s %12s\n' "etcd 3 members, $records puts (puts/s)" "$etcd"
printf '%-44s %12s\n' "etcd p99 (ms)" "$etcd_p99"
echo "tps=$tps bound=$bound ratio_bound=$(ratio "$tps" "$bound") etcd=$etcd ratio_etcd=$(ratio "$tps" "$etcd") p99_ms=${p99:-0}"
