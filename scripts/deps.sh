#!/usr/bin/env bash
# Install the Debian packages Hansa needs to build and test, and only those
# that are missing. Says what it installs. Uses sudo when not root.
#
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --build    build dependencies only (the Docker image)
#   scripts/deps.sh --fuzz     also clang and libFuzzer (for make fuzz)
#   scripts/deps.sh --check    list what is missing, install nothing (exit 1 if any)
set -euo pipefail

packages=(
  gcc libc6-dev make cmake pkg-config git
  libnng-dev librocksdb-dev libmbedtls-dev
  libprotobuf-c-dev protobuf-c-compiler
  libsodium-dev libjansson-dev libinih-dev
)
# Test tools: Criterion; docker-compose validates docker/compose.yaml and
# shellcheck the scripts (tests/docker); clang-format checks the code's
# format in CI (.ci/run).
test_packages=(libcriterion-dev docker-compose shellcheck clang-format)

if [[ "${1:-}" == "--build" ]]; then
  shift
else
  packages+=("${test_packages[@]}")
fi

if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang libclang-rt-14-dev xxd)
  shift
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: this script installs Debian packages with apt-get; on another system install:" >&2
  echo "      ${packages[*]}" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "deps: missing: ${missing[*]}"
  exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: not root and no sudo; run as root: apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi

echo "deps: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
