#!/usr/bin/env bash
# Container health check of a Hansa node (HEALTHCHECK of docker/Dockerfile).
#
#   hansa-healthcheck [HOME]        HOME defaults to $HANSA_HOME, else /var/lib/hansa
#
# hansad has no health command, so this asks the one thing a client needs:
# does the node accept connections on its client API? It reads [api] of
# HOME/config.ini and opens a TCP connection (bash's /dev/tcp, at most 3 s)
# to listen_tcp, the plain-tcp listener on loopback, when one is configured,
# else to listen_tls. The connection is closed without a request; the node
# logs nothing for it. A wildcard listen host (0.0.0.0, *, ::) is checked on
# loopback. Exit 0 healthy, 1 not (with one line saying why).
set -euo pipefail

home=${1:-${HANSA_HOME:-/var/lib/hansa}}
config="$home/config.ini"

[[ -r "$config" ]] || {
  echo "health: cannot read $config"
  exit 1
}

section=""
url_tcp=""
url_tls=""
section_re='^\[([A-Za-z0-9_]+)\]'
key_re='^(listen_tcp|listen_tls)[[:space:]]*=[[:space:]]*([^[:space:]]*)'
while IFS= read -r line || [[ -n "$line" ]]; do
  if [[ "$line" =~ $section_re ]]; then
    section=${BASH_REMATCH[1]}
  elif [[ "$section" == api && "$line" =~ $key_re ]]; then
    if [[ ${BASH_REMATCH[1]} == listen_tcp ]]; then
      url_tcp=${BASH_REMATCH[2]}
    else
      url_tls=${BASH_REMATCH[2]}
    fi
  fi
done <"$config"

url=${url_tcp:-$url_tls}
[[ -n "$url" ]] || {
  echo "health: $config has no [api] listen_tcp or listen_tls"
  exit 1
}

hostport=${url#*://}
port=${hostport##*:}
host=${hostport%:*}
host=${host#[}
host=${host%]}
case "$host" in
  "" | "*" | 0.0.0.0) host=127.0.0.1 ;;
  "::") host=::1 ;;
esac

# The connection is opened in a child bash so that timeout can end it.
# shellcheck disable=SC2016 # $1 and $2 expand in the child
if timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' health "$host" "$port" 2>/dev/null; then
  exit 0
fi
echo "health: the client API at $url ($host:$port) accepts no connection"
exit 1
