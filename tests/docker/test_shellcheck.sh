#!/usr/bin/env bash
# docker_scripts_shellcheck: the shell scripts of docker/ (shipped in the
# image) and of tests/docker/ pass shellcheck with its default checks.
#
#   test_shellcheck.sh SOURCE_DIR
#
# Without shellcheck the test fails and names the Debian package.
# Exit 0 pass, 1 fail.
set -euo pipefail

src=${1:?usage: test_shellcheck.sh SOURCE_DIR}

command -v shellcheck >/dev/null 2>&1 || {
  echo "FAIL: shellcheck is not installed; install the Debian package shellcheck" >&2
  exit 1
}

scripts=("$src"/docker/*.sh "$src"/tests/docker/*.sh)
[[ ${#scripts[@]} -ge 5 ]] || {
  echo "FAIL: expected at least 5 scripts, found ${#scripts[@]}: ${scripts[*]}" >&2
  exit 1
}
if ! shellcheck --shell=bash "${scripts[@]}"; then
  echo "FAIL: shellcheck reports the findings above" >&2
  exit 1
fi
echo "ok: shellcheck $(shellcheck --version | sed -n 's/^version: //p') finds nothing in ${#scripts[@]} scripts"
