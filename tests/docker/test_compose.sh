#!/usr/bin/env bash
# docker_compose_config: docker/compose.yaml is a valid compose file, and it
# agrees with docker/init.sh.
#
#   test_compose.sh SOURCE_DIR
#
# 1. `docker-compose -f docker/compose.yaml config -q` (Debian 12's
#    docker-compose 1.29) accepts the file.
# 2. The same command refuses a file with an unknown key, so a
#    docker-compose that accepted anything could not pass step 1 unnoticed.
# 3. The rendered configuration matches the network init.sh writes: one
#    validator service per entry of init.sh's SERVICES (node i = entry i),
#    each mounting its own volume <service>-home as its node home, which the
#    init service mounts at /hansa/<service>; each validator starting after
#    init completed and publishing its client API (26601+10i) and events
#    (26603+10i) on the host's loopback; the consortium volume shared by
#    init and cli.
# docker-compose needs no Docker engine for `config`. Without it the test
# fails and says which package to install. Exit 0 pass, 1 fail.
set -euo pipefail

src=${1:?usage: test_compose.sh SOURCE_DIR}
compose_file="$src/docker/compose.yaml"
init_script="$src/docker/init.sh"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v docker-compose >/dev/null 2>&1 ||
  fail "docker-compose is not installed; install the Debian package docker-compose (apt-get install docker-compose)"
command -v python3 >/dev/null 2>&1 ||
  fail "python3 is not installed (Debian's docker-compose depends on it; reinstall docker-compose)"
[[ -f "$compose_file" ]] || fail "$compose_file does not exist"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hansa-compose-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. Valid.
if ! docker-compose -f "$compose_file" config -q 2>"$tmp/err"; then
  cat "$tmp/err" >&2
  fail "docker-compose rejects $compose_file"
fi
echo "ok: docker-compose $(docker-compose version --short 2>/dev/null || echo '?') validates docker/compose.yaml"

# 2. An unknown key is refused.
printf 'services:\n  node:\n    image: hansa:local\n    restart_policy_typo: always\n' >"$tmp/bad.yaml"
if docker-compose -f "$tmp/bad.yaml" config -q 2>/dev/null; then
  fail "docker-compose accepted a service with an unknown key: it does not validate"
fi
echo "ok: docker-compose refuses a file with an unknown key"

# 3. Agreement with init.sh.
services_line=$(grep -m1 '^readonly SERVICES=(' "$init_script") ||
  fail "$init_script has no 'readonly SERVICES=(...)' line"
services_line=${services_line#*\(}
services_line=${services_line%\)*}
read -ra services <<<"$services_line"
[[ ${#services[@]} -eq 4 ]] || fail "init.sh lists ${#services[@]} services, expected 4"

docker-compose -f "$compose_file" config >"$tmp/rendered.yaml" 2>"$tmp/err" || {
  cat "$tmp/err" >&2
  fail "docker-compose cannot render $compose_file"
}

python3 - "$tmp/rendered.yaml" "${services[@]}" <<'PY' || fail "docker/compose.yaml and docker/init.sh disagree (above)"
import sys
import yaml

with open(sys.argv[1]) as f:
    cfg = yaml.safe_load(f)
names = sys.argv[2:]
svc = cfg.get("services", {})
errors = []

def check(cond, what):
    if not cond:
        errors.append(what)

check(set(svc) == set(names) | {"init", "cli"},
      f"services are {sorted(svc)}, expected init, cli and {names}")
init = svc.get("init", {})
init_vols = init.get("volumes", [])
check("/hansa" in init.get("command", []), "init does not write into /hansa")
check("consortium:/hansa/consortium:rw" in init_vols, "init does not mount the consortium volume")
check("consortium:/var/lib/hansa:ro" in svc.get("cli", {}).get("volumes", []),
      "cli does not mount the consortium volume read-only as its working directory")
check("consortium" in cfg.get("volumes", {}), "no top-level volume consortium")
for i, name in enumerate(names):
    s = svc.get(name)
    if s is None:
        continue
    vol = f"{name}-home"
    base = 26600 + 10 * i
    check(vol in cfg.get("volumes", {}), f"no top-level volume {vol}")
    check(f"{vol}:/hansa/{name}:rw" in init_vols, f"init does not mount {vol} at /hansa/{name}")
    check(s.get("volumes") == [f"{vol}:/var/lib/hansa:rw"],
          f"{name} mounts {s.get('volumes')}, expected only {vol} at /var/lib/hansa")
    check(s.get("command") == ["start", "--home", "/var/lib/hansa"],
          f"{name} does not start the node of /var/lib/hansa")
    dep = s.get("depends_on", {}).get("init", {})
    check(dep.get("condition") == "service_completed_successfully",
          f"{name} does not wait for init to complete")
    ports = set(s.get("ports", []))
    for p in (base + 1, base + 3):
        check(f"127.0.0.1:{p}:{p}/tcp" in ports, f"{name} (node{i}) does not publish {p} on 127.0.0.1")
    check(str(base) in s.get("expose", []), f"{name} (node{i}) does not expose its p2p port {base}")
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "ok: compose services, volumes and ports match docker/init.sh (${services[*]})"
