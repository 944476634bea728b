#!/usr/bin/env bash
# docker_init_rewrites_configs: docker/init.sh, run with a built hansad,
# writes four node homes whose config.ini fit a compose network, and is
# idempotent without ever overwriting.
#
#   test_init.sh SOURCE_DIR HANSAD
#
# Checked for node i (service S_i = bank-, logistics-, platform-,
# customs-validator; P_i = 26600 + 10 i):
#   [node] id = node<i>; [p2p] listen, [api] listen_tls and [events] listen
#   on 0.0.0.0 at P_i, P_i+1, P_i+3; [api] listen_tcp still on 127.0.0.1 at
#   P_i+2 (plain tcp is loopback only); one [peers] line per other node j,
#   "node<j> = tls+tcp://S_j:P_j" (the peer id stays the TLS name); no
#   tls+tcp address left on 127.0.0.1; key files still mode 0600; the same
#   genesis.json in every home; the consortium CA and party keys present.
# Then: a second run changes nothing and succeeds; a run over a home without
# config.ini, and over a partly initialised directory, fails. Nothing is
# started and no port is bound. Exit 0 pass, 1 fail.
set -euo pipefail

src=${1:?usage: test_init.sh SOURCE_DIR HANSAD}
hansad=${2:?usage: test_init.sh SOURCE_DIR HANSAD}
init="$src/docker/init.sh"
services=(bank-validator logistics-validator platform-validator customs-validator)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -x "$hansad" ]] || fail "hansad is not built at $hansad (build the hansad target first)"
[[ -f "$init" ]] || fail "$init does not exist"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hansa-init-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
net="$tmp/net"

if ! bash "$init" --hansad "$hansad" --owner "$(id -u):$(id -g)" "$net" >"$tmp/out" 2>&1; then
  cat "$tmp/out" >&2
  fail "init.sh failed on an empty directory"
fi
echo "ok: init.sh generated a network"

# The value of KEY in [SECTION] of FILE (each key once per section: config rule 1).
ini_get() {
  local file=$1 want_section=$2 want_key=$3 line section="" value=""
  local section_re='^\[([A-Za-z0-9_]+)\]'
  local key_re='^([A-Za-z0-9._-]+) = (.*)$'
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ $section_re ]]; then
      section=${BASH_REMATCH[1]}
    elif [[ "$section" == "$want_section" && "$line" =~ $key_re && ${BASH_REMATCH[1]} == "$want_key" ]]; then
      value=${BASH_REMATCH[2]}
    fi
  done <"$file"
  printf '%s\n' "$value"
}

expect() {
  local file=$1 section=$2 key=$3 want=$4 got
  got=$(ini_get "$file" "$section" "$key")
  [[ "$got" == "$want" ]] || fail "$file: [$section] $key is '$got', expected '$want'"
}

expect_mode() {
  local file=$1 want=$2 got
  [[ -f "$file" ]] || fail "$file is missing"
  got=$(stat -c %a "$file")
  [[ "$got" == "$want" ]] || fail "$file has mode $got, expected $want"
}

for i in "${!services[@]}"; do
  home="$net/${services[$i]}"
  cfg="$home/config.ini"
  [[ -f "$cfg" ]] || fail "$cfg is missing"
  p=$((26600 + 10 * i))
  expect "$cfg" node id "node$i"
  expect "$cfg" p2p listen "tls+tcp://0.0.0.0:$p"
  expect "$cfg" api listen_tls "tls+tcp://0.0.0.0:$((p + 1))"
  expect "$cfg" api listen_tcp "tcp://127.0.0.1:$((p + 2))"
  expect "$cfg" events listen "tls+tcp://0.0.0.0:$((p + 3))"
  for j in "${!services[@]}"; do
    if [[ $j -eq $i ]]; then
      [[ -z "$(ini_get "$cfg" peers "node$j")" ]] || fail "$cfg lists itself as a peer"
    else
      expect "$cfg" peers "node$j" "tls+tcp://${services[$j]}:$((26600 + 10 * j))"
    fi
  done
  if grep -n 'tls+tcp://127\.0\.0\.1' "$cfg" | grep -v '^[0-9]*:;' >&2; then
    fail "$cfg still has a tls+tcp address on 127.0.0.1 (above)"
  fi
  expect_mode "$home/validator.key" 600
  expect_mode "$home/tls/node.key" 600
  expect_mode "$cfg" 644
  cmp -s "$home/genesis.json" "$net/${services[0]}/genesis.json" ||
    fail "$home/genesis.json differs from the bank's"
  [[ -f "$home/ruleset.ini" && -f "$home/ca.crt" && -f "$home/tls/node.crt" ]] ||
    fail "$home lacks ruleset.ini, ca.crt or tls/node.crt"
done
echo "ok: four homes with listeners on 0.0.0.0, loopback plain tcp, peers by service name"

for f in ca/ca.crt ca/ca.key parties/ca.crt parties/client.crt parties/BANK-A.key \
  parties/LOG-0001.key parties/PLT-0001.key parties/CUS-0001.key parties/identity.key; do
  [[ -f "$net/consortium/$f" ]] || fail "$net/consortium/$f is missing"
done
expect_mode "$net/consortium/parties/BANK-A.key" 600
echo "ok: consortium CA and party keys in consortium/"

# Idempotent: a second run succeeds and changes nothing.
before=$(find "$net" -type f -exec sha256sum {} + | sort)
if ! bash "$init" --hansad "$hansad" "$net" >"$tmp/out" 2>&1; then
  cat "$tmp/out" >&2
  fail "a second run over a complete network failed"
fi
grep -q "nothing changed" "$tmp/out" || fail "a second run did not say it changed nothing"
after=$(find "$net" -type f -exec sha256sum {} + | sort)
[[ "$before" == "$after" ]] || fail "a second run changed files"
echo "ok: a second run changes nothing"

# Never overwrites: a home without config.ini but with files is refused.
mkdir -p "$tmp/dirty/bank-validator"
echo data >"$tmp/dirty/bank-validator/leftover"
if bash "$init" --hansad "$hansad" "$tmp/dirty" >"$tmp/out" 2>&1; then
  fail "init.sh ran over a non-empty home without config.ini"
fi
grep -q "refusing" "$tmp/out" || fail "the refusal does not say why: $(cat "$tmp/out")"
[[ "$(cat "$tmp/dirty/bank-validator/leftover")" == data ]] || fail "init.sh touched a refused home"

# A partly initialised directory is refused.
rm "$net/${services[2]}/config.ini"
if bash "$init" --hansad "$hansad" "$net" >"$tmp/out" 2>&1; then
  fail "init.sh accepted a partly initialised directory"
fi
grep -q "partly initialised" "$tmp/out" || fail "the refusal does not say why: $(cat "$tmp/out")"
echo "ok: init.sh refuses non-empty and partly initialised directories"
