#!/usr/bin/env bash
# Prepare this machine for `make lab` and `make test`: Debian packages, the repo's one Python
# environment (.venv, from uv.lock) and nothing else. podman is configured only through
# lab/containers.conf (the Makefile exports CONTAINERS_CONF); nothing in /etc is changed. One kernel limit is raised
# for the running system only (inotify instances, below), as kind asks of a machine that runs a cluster in containers.
# A second run installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Makefile exports it; a direct run gets the same engine settings.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/lab/containers.conf}"

UV_VERSION=0.13.9
# catatonit: the pause process of every podman pod, only a Recommends of podman (dropped by
# --no-install-recommends). postgresql-15: the real database the service tests start on loopback. redis-server:
# the store the gateway's replay-guard tests start on loopback, and the lab's Redis image. prometheus: the lab's Prometheus
# and promtool, which check the rendered configuration and rules. skopeo: images into and out of the
# bundle; docker-registry: a throwaway loopback registry the bundle's image tests use. openssh-client: Ansible
# reaches the lab hosts and molecule platforms over SSH (and ssh-keygen makes their per-install key).
PACKAGES=(podman catatonit runc conmon netavark aardvark-dns iptables debootstrap python3 python3-venv make git curl openssh-client
  postgresql-15 postgresql-client-15 redis-server prometheus skopeo docker-registry)

die() { echo "bootstrap: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (podman needs it for systemd containers and cgroup limits): sudo make ..."
[ -r /etc/os-release ] || die "cannot read /etc/os-release; this needs Debian 12 or a Debian derivative"
# shellcheck source=/dev/null
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*) ;;
  *) die "this is ${PRETTY_NAME:-an unknown system}; the lab needs Debian 12 (bookworm) or a Debian derivative with apt" ;;
esac

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

uv=.cache/uv/bin/uv
if ! "$uv" --version 2>/dev/null | grep -q " $UV_VERSION"; then
  echo "bootstrap: installing uv $UV_VERSION into .cache/uv"
  python3 -m venv .cache/uv
  .cache/uv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
# uv verifies TLS against the system store, where a site's intercepting CA is installed.
UV_NATIVE_TLS=1 "$uv" sync --frozen --quiet
# The repository's packages and the collection import from the environment (an editable install, no sys.path edits);
# load.plots brings matplotlib up (its font cache is built on first import).
.venv/bin/python -c 'import lab.mesh, load.plots, tools, benchmarks, miniapp_services, ansible_collections.miniapp.mesh.plugins.module_utils.bundle' ||
  die "the repository's packages do not import from .venv; run: $uv sync --frozen"

# Kubernetes and Istio schemas for validating rendered manifests (tools/schemas), pinned by its lock.
if ! command -v npm >/dev/null; then
  echo "bootstrap: installing nodejs and npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
lock=tools/schemas/package-lock.json
if [ ! -f tools/schemas/node_modules/.installed ] || [ "$lock" -nt tools/schemas/node_modules/.installed ]; then
  npm ci --prefix tools/schemas --silent --no-audit --no-fund
  touch tools/schemas/node_modules/.installed
fi
# The per-install SSH key the lab's hosts and molecule's platforms trust (never shared between installs); Ansible
# reaches them over SSH carried by podman exec (inventories/lab/group_vars/lab.yml, extensions/molecule/config.yml).
key=.cache/lab-ssh/id_ed25519
if [ ! -f "$key" ]; then
  install -d -m 0700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C miniapp-lab -f "$key"
fi
# A machine that stopped under running containers leaves podman believing they still run: nothing can
# exec into, stop or start them, and the next `make lab` fails. Remove them (named volumes stay) so the
# lab recreates them; a pod goes whole, since its other containers share the dead one's namespaces.
podman ps --filter status=running --format '{{.ID}} {{.Pid}} {{.Pod}}' | while read -r id pid pod; do
  [ -d "/proc/$pid" ] && continue
  echo "bootstrap: removing container $id, whose processes are gone (the machine stopped under it)"
  if [ -n "$pod" ]; then podman pod rm -f -t 0 "$pod" >/dev/null 2>&1 || true; fi
  podman rm -f -t 0 "$id" >/dev/null 2>&1 || true
done
# Prove the container stack works as the lab uses it, so a missing piece fails here, named, not in a role
# ten minutes later: a pod (its infra container runs podman's pause helper, catatonit, under runc and
# conmon) on an internal network (netavark, iptables, aardvark-dns), created, started and removed.
prove_pods() {
  local name=miniapp-bootstrap-proof state
  cleanup() { podman pod rm -f -t 0 "$name" >/dev/null 2>&1 || true; podman network rm -f "$name" >/dev/null 2>&1 || true; }
  step() {
    local err
    err=$("$@" 2>&1 >/dev/null) || { cleanup; die "podman cannot run a pod on this machine (${*:1:3}): ${err##*$'\n'}"; }
  }
  cleanup
  step podman network create --internal "$name"
  step podman pod create --name "$name" --network "$name"
  step podman pod start "$name"
  state=$(podman pod inspect "$name" --format '{{.State}}' 2>/dev/null)
  cleanup
  [ "$state" = Running ] || die "a throwaway pod did not run (state: $state); check podman, runc, conmon and catatonit"
}
prove_pods
# Every lab sidecar watches a file per outbound cluster for its endpoints (lab/mesh/endpoints.py), and Envoy
# makes an inotify instance per watch: about 130 for the lab's sidecars beside the 2 each has for its certificate
# and the lab hosts' systemd, past the kernel's default of 128 per user (a sidecar over it aborts). Raised for
# the running system (not in /etc: the next boot's first bootstrap raises it again), then read back.
INOTIFY_INSTANCES=1024
limit=/proc/sys/fs/inotify/max_user_instances
if [ "$(cat "$limit")" -lt "$INOTIFY_INSTANCES" ]; then
  echo "bootstrap: raising fs.inotify.max_user_instances from $(cat "$limit") to $INOTIFY_INSTANCES"
  echo "$INOTIFY_INSTANCES" 2>/dev/null >"$limit" || die "cannot raise fs.inotify.max_user_instances; the lab's sidecars need $INOTIFY_INSTANCES"
fi
[ "$(cat "$limit")" -ge "$INOTIFY_INSTANCES" ] || die "fs.inotify.max_user_instances is $(cat "$limit"), the lab's sidecars need $INOTIFY_INSTANCES"
echo "bootstrap: ready (podman $(podman --version | awk '{print $3}'), $(.venv/bin/ansible --version | head -1))"
