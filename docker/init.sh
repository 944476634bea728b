#!/usr/bin/env bash
# Generate the four-organisation Hansa network of docker/compose.yaml.
#
#   init.sh [--hansad PATH] [--owner USER[:GROUP]] DIR
#
# Runs `hansad testnet --validators 4` into a temporary directory, makes each
# node's config.ini fit a compose network, and copies the result into DIR:
#
#   DIR/bank-validator/        home of node0  (the bank's validator)
#   DIR/logistics-validator/   home of node1  (the logistics firm's)
#   DIR/platform-validator/    home of node2  (the e-commerce platform's)
#   DIR/customs-validator/     home of node3  (customs')
#   DIR/consortium/ca/         consortium CA certificate and key
#   DIR/consortium/parties/    demo party keys, identity key, client
#                              certificate and CA copy, for clients
#
# In compose each of these is a named volume that the one-shot `init`
# service mounts (as root, with --owner hansa:hansa so the validators, which
# run as `hansa`, own their files). On a host it can be run directly to look
# at what the containers get: init.sh --hansad build/bin/hansad /tmp/hansa-docker
#
# What changes in config.ini, and why (node/config/config.h rules 4-5):
#   [p2p] listen, [api] listen_tls, [events] listen
#       127.0.0.1 -> 0.0.0.0: every container has its own address, and the
#       other validators and clients reach a node through it.
#   [peers] node<j> = tls+tcp://127.0.0.1:P -> tls+tcp://<service of j>:P
#       the compose service name resolves to the container on the compose
#       network. The peer id (node<j>) stays: it is the TLS server name the
#       node dials with, and the peer's certificate carries it, not the
#       service name.
#   [api] listen_tcp stays on 127.0.0.1: plain tcp must bind a loopback
#       address (rule 4); tools inside the container, and the health check,
#       use it.
# Ports stay those of `hansad testnet` (node i: 26600+10i p2p, +1 TLS API,
# +2 loopback API, +3 events): distinct per node, so every validator's ports
# can be published on the host side by side.
#
# Idempotent: when every home already holds a config.ini and the consortium
# directory is there, it says so and changes nothing (exit 0), so
# `docker-compose up` may run it on every start. A partly initialised DIR,
# or a home that is not empty without a config.ini, is an error (exit 1):
# nothing is overwritten; remove the volumes (docker-compose down -v) to
# start over. Exit 2 on a usage error.
set -euo pipefail

readonly SERVICES=(bank-validator logistics-validator platform-validator customs-validator)
readonly ORGANISATIONS=("a bank" "a logistics firm" "an e-commerce platform" "customs")
readonly BASE_PORT=26600

hansad=hansad
owner=""
dir=""

usage() {
  echo "usage: ${0##*/} [--hansad PATH] [--owner USER[:GROUP]] DIR" >&2
  exit 2
}

fail() {
  echo "init: $*" >&2
  exit 1
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --hansad)
        [[ $# -ge 2 ]] || usage
        hansad=$2
        shift 2
        ;;
      --owner)
        [[ $# -ge 2 ]] || usage
        owner=$2
        shift 2
        ;;
      -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
      -*) usage ;;
      *)
        [[ -z "$dir" ]] || usage
        dir=$1
        shift
        ;;
    esac
  done
  [[ -n "$dir" ]] || usage
}

# The compose service of validator id node<j>; fails for any other id.
service_of() {
  local id=$1
  [[ "$id" =~ ^node([0-9]+)$ ]] || return 1
  local j=${BASH_REMATCH[1]}
  [[ $j -lt ${#SERVICES[@]} ]] || return 1
  printf '%s\n' "${SERVICES[$j]}"
}

# 0 when DIR holds a complete network, 1 when it holds none (every target
# missing or empty); exits on anything in between.
already_initialised() {
  local complete=0 s
  for s in "${SERVICES[@]}"; do
    if [[ -f "$dir/$s/config.ini" ]]; then
      complete=$((complete + 1))
    fi
  done
  if [[ $complete -eq ${#SERVICES[@]} && -d "$dir/consortium/parties" ]]; then
    return 0
  fi
  if [[ $complete -ne 0 ]]; then
    fail "$dir is partly initialised ($complete of ${#SERVICES[@]} homes have a config.ini); refusing to touch it (remove it, or the volumes with docker-compose down -v, to start over)"
  fi
  for s in "${SERVICES[@]}" consortium; do
    if [[ -d "$dir/$s" && -n "$(ls -A "$dir/$s")" ]]; then
      fail "$dir/$s is not empty but no home has a config.ini; refusing to overwrite it (remove it, or the volumes with docker-compose down -v, to start over)"
    fi
  done
  return 1
}

# Rewrite one config.ini (see the top of this file) from $1 into $2. Counts
# what it changed and fails unless it found exactly the three listeners and
# one peer line per other validator, so a change of the file's layout is
# caught here rather than by a node that cannot reach its peers.
rewrite_config() {
  local in=$1 out=$2 section="" line key port host
  local listeners=0 peers=0
  local section_re='^\[([A-Za-z0-9_]+)\]'
  local url_re='^([A-Za-z0-9._-]+) = tls\+tcp://127\.0\.0\.1:([0-9]+)$'
  {
    echo "; Rewritten by docker/init.sh for docker compose: listeners on 0.0.0.0,"
    echo "; peers dialed by compose service name (the peer id stays the TLS name)."
    while IFS= read -r line || [[ -n "$line" ]]; do
      if [[ "$line" =~ $section_re ]]; then
        section=${BASH_REMATCH[1]}
      elif [[ "$line" =~ $url_re ]]; then
        key=${BASH_REMATCH[1]}
        port=${BASH_REMATCH[2]}
        case "$section/$key" in
          p2p/listen | api/listen_tls | events/listen)
            line="$key = tls+tcp://0.0.0.0:$port"
            listeners=$((listeners + 1))
            ;;
          peers/*)
            host=$(service_of "$key") || fail "$in: [peers] $key is not one of node0..node$((${#SERVICES[@]} - 1))"
            line="$key = tls+tcp://$host:$port"
            peers=$((peers + 1))
            ;;
          *) fail "$in: [$section] $key: unexpected loopback tls+tcp address" ;;
        esac
      fi
      printf '%s\n' "$line"
    done <"$in"
  } >"$out"
  [[ $listeners -eq 3 ]] || fail "$in: found $listeners of the 3 listeners to rewrite ([p2p] listen, [api] listen_tls, [events] listen)"
  [[ $peers -eq $((${#SERVICES[@]} - 1)) ]] || fail "$in: found $peers peer lines, expected $((${#SERVICES[@]} - 1))"
}

generate() {
  local tmp=$1 i
  "$hansad" testnet --validators "${#SERVICES[@]}" --dir "$tmp/net" --base-port "$BASE_PORT" >/dev/null ||
    fail "'$hansad testnet' failed"
  for i in "${!SERVICES[@]}"; do
    local cfg="$tmp/net/node$i/config.ini"
    rewrite_config "$cfg" "$cfg.rewritten"
    chmod 0644 "$cfg.rewritten"
    mv "$cfg.rewritten" "$cfg"
  done
}

# Copy into DIR; the config.ini files last, since they mark a home as done.
install_network() {
  local tmp=$1 i s
  for i in "${!SERVICES[@]}"; do
    s=${SERVICES[$i]}
    mkdir -p "$dir/$s"
    mv "$tmp/net/node$i/config.ini" "$tmp/config-node$i.ini"
    cp -a "$tmp/net/node$i/." "$dir/$s/"
  done
  mkdir -p "$dir/consortium"
  cp -a "$tmp/net/ca" "$tmp/net/parties" "$dir/consortium/"
  if [[ -n "$owner" ]]; then
    chown -R "$owner" "$dir/consortium" "${SERVICES[@]/#/$dir/}"
  fi
  for i in "${!SERVICES[@]}"; do
    s=${SERVICES[$i]}
    cp -a "$tmp/config-node$i.ini" "$dir/$s/config.ini"
    if [[ -n "$owner" ]]; then
      chown "$owner" "$dir/$s/config.ini"
    fi
  done
}

print_summary() {
  local i p
  echo "init: a four-organisation network in $dir"
  for i in "${!SERVICES[@]}"; do
    p=$((BASE_PORT + 10 * i))
    printf 'init:   %-20s node%d, %s: p2p %d, client API tls+tcp %d (TLS name node%d), events %d\n' \
      "${SERVICES[$i]}" "$i" "${ORGANISATIONS[$i]}" "$p" $((p + 1)) "$i" $((p + 3))
  done
  echo "init:   consortium/parties: party keys, identity key, client certificate, CA"
}

main() {
  parse_args "$@"
  if already_initialised; then
    echo "init: $dir already holds the network; nothing changed"
    return 0
  fi
  command -v "$hansad" >/dev/null 2>&1 || fail "cannot run hansad ('$hansad'); pass --hansad PATH"
  local tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/hansa-init.XXXXXX")
  # shellcheck disable=SC2064 # expand $tmp now: it is local to main
  trap "rm -rf '$tmp'" EXIT
  generate "$tmp"
  install_network "$tmp"
  print_summary
}

main "$@"
