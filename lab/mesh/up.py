"""Realize the rendered objects as podman pods, each an app container beside a real Envoy 1.40 sidecar
compiled from the Istio objects, plus the lab's PostgreSQL and the edge ingress. The lab's stand-in for
K3s + istiod; only the project's own containers on the internal network miniapp-mesh are involved.

    python -m lab.mesh.up OBJECTS_YML SECRETS_JSON --trust-domain TD   # create or replace the mesh
    python -m lab.mesh.up --down                                        # remove it

What it made is written as the lab's typed state (lab/mesh/state.py), which everything else reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import envoy
import httpx
import yaml

from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_catalog import (
    ISTIO_CONCURRENCY,
    SidecarResources,
    spiffe_id,
)
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import (
    EDGE_ACCOUNT,
    EDGE_NAMESPACE,
    PROXY_CPU_LIMIT,
    PROXY_MEMORY_LIMIT,
)
from lab.mesh import EDGE_PORT, EDGE_URL, endpoints, kubelet, pki, plan, state, volumes
from lab.mesh import compile as mesh
from lab.mesh.clusters import TlsFiles
from lab.mesh.objects import Objects
from lab.podman import podman, succeeds

ROOT = Path(__file__).resolve().parents[2]
STATE = state.STATE_DIR
NETWORK, SUBNET, PREFIX = "miniapp-mesh", "10.89.7.0/24", "10.89.7."
INGRESS_IP, FIRST_POD = PREFIX + "6", 10
INGRESS_PORT = 8080
# The edge's sidecar has no Deployment of ours to read its limits from: the catalog's default budget.
EDGE_SIDECAR = SidecarResources()
LABEL = "miniapp.mesh=lab"
FINGERPRINT = "miniapp.mesh.fingerprint"
INGRESS_POD = "miniapp-mesh-ingress"
INGRESS_SIDECAR = f"{INGRESS_POD}-envoy"
# The mesh CA's renewals (istiod or SPIRE at a site): a container of its own, checking every minute.
CA_POD, CA_EVERY_S = "miniapp-mesh-ca", 60
CA_CONTAINER = f"{CA_POD}-renewer"
ENVOY_BIN = Path(envoy.__file__).parent / "_bin" / "envoy"
MESH_TLS = TlsFiles("/etc/mesh")
ENDPOINTS = STATE / kubelet.ENDPOINTS_DIR


@dataclass
class Realize:
    """What every pod of one mesh is started from: the checked objects, the pods they ask for, the images by
    the name a Deployment asks for, the mesh's CA, the Secrets, the trust domain, the lab hosts' network (the
    pods' second, as a pod reaches hosts outside the cluster) and the addresses on it of the hosts outside the
    cluster that the pods reach (the database's, the config centre's)."""

    objects: Objects
    pods: list[mesh.Pod]
    images: dict[str, str]
    ca: pki.Issued
    lookup: plan.SecretLookup
    trust_domain: str
    lab_network: str
    outside_hosts: dict[str, str]
    initialized: set[str] = field(default_factory=set)


def image(script: str, *args: str) -> str:
    """Build the image if its recipe changed; its reference."""
    subprocess.run([ROOT / script, *args], check=True, stdout=subprocess.DEVNULL)
    return subprocess.run(
        [ROOT / script, *args, "--tag-only"], check=True, capture_output=True, text=True
    ).stdout.strip()


def down() -> None:
    kubelet.stop(STATE)
    for pod in podman("pod", "ps", "--filter", f"label={LABEL}", "--format", "{{.Name}}").split():
        podman("pod", "rm", "-f", "-t", "5", pod, check=False)
    podman("network", "rm", "-f", NETWORK, check=False)
    shutil.rmtree(STATE / "ca", ignore_errors=True)  # the CA's key lives no longer than its mesh
    shutil.rmtree(ENDPOINTS, ignore_errors=True)


def outside_hosts(hosts: tuple[str, ...], lab_network: str) -> dict[str, str]:
    """Each host's address on the lab network (the database's and etcd's lab hosts, made by site.yml)."""
    found = {}
    for host in hosts:
        address = podman(
            "inspect",
            "--format",
            '{{(index .NetworkSettings.Networks "' + lab_network + '").IPAddress}}',
            host,
            check=False,
        )
        if not address:
            raise SystemExit(f"lab host {host} is not running on {lab_network}: run make lab (site.yml makes it)")
        found[host] = address
    return found


def _sidecar_dir(name: str, ca: pki.Issued, spiffe: str, config: dict[str, Any]) -> Path:
    directory = STATE / "pods" / name
    pki.write(directory, ca, pki.issue(ca, spiffe))
    (directory / "envoy.json").write_text(json.dumps(config, indent=1))
    return directory


def start_ca(ca: pki.Issued, node_image: str) -> None:
    """Keep the CA where the renewer reads it and start the renewer, with no network: it only writes files."""
    pki.save_ca(STATE / "ca", ca)
    podman("pod", "create", "--name", CA_POD, "--label", LABEL, "--network", "none")
    podman(
        "run", "-d", "--pod", CA_POD, "--name", CA_CONTAINER, "--memory", "64m", "--restart", "on-failure",
        "-v", f"{ROOT / 'lab'}:/opt/lab/lab:ro",
        "-v", f"{STATE / 'pods'}:/state/pods", "-v", f"{STATE / 'ca'}:/state/ca:ro",
        "-e", "PYTHONPATH=/opt/lab", "-e", "PYTHONDONTWRITEBYTECODE=1",
        node_image, "python3", "-m", "lab.mesh.rotate", "/state/pods", "/state/ca", "--every", str(CA_EVERY_S),
    )  # fmt: skip


def _limits(memory: str, cpu: str) -> list[str]:
    """podman's cgroup limits for a container limited at memory (such as 64Mi) and cpu (such as 1000m)."""
    return ["--memory", memory.replace("Mi", "m"), "--cpus", str(int(cpu.rstrip("m")) / 1000)]


def _run_envoy(
    pod: str, container: str, directory: Path, node_image: str, limits: list[str], concurrency: int = ISTIO_CONCURRENCY
) -> None:
    podman(
        "run",
        "-d",
        "--pod",
        pod,
        "--name",
        container,
        *limits,
        "--stop-signal",
        "SIGTERM",
        "-v",
        f"{ENVOY_BIN}:/usr/local/bin/envoy:ro",
        "-v",
        f"{directory}:/etc/mesh:ro",
        "-v",
        f"{ENDPOINTS}:{mesh.ENDPOINT_FILES.directory}:ro",
        node_image,
        "/usr/local/bin/envoy",
        "-c",
        "/etc/mesh/envoy.json",
        "--concurrency",
        str(concurrency),
        "-l",
        "warning",
    )


def _mounts(pod: mesh.Pod, files: dict[str, plan.Projection], scratch: list[str], user: int) -> list[str]:
    """podman arguments that project the pod's volume files read-only and give each emptyDir a tmpfs."""
    args, _ = volumes.project(STATE, pod.name, files, user)
    return args + [a for path in scratch for a in ("--tmpfs", path)]


def start_pod(run: Realize, pod: state.LabPod) -> list[str]:
    """The pod as the kubelet would start it: its init containers (once per app, as the first pod's would
    have done it for the others), its container with its limits, volumes and arguments, and its sidecar.
    Returns its readiness probe as a command."""
    workload = run.objects.workload(pod.namespace, pod.app, pod.version)
    spec, app = workload.pod_spec, workload.container
    entries = plan.host_entries(run.objects, run.outside_hosts)
    hosts = [a for h in entries for a in ("--add-host", h)]
    networks = ["--network", f"{NETWORK}:ip={pod.ip}", "--network", run.lab_network]
    podman("pod", "create", "--name", pod.name, "--label", LABEL, *networks, *hosts)
    env = [a for k, v in plan.app_env(app, pod.namespace, run.lookup).items() for a in ("-e", f"{k}={v}")]
    limits = app["resources"]["limits"]
    run_args = _limits(limits["memory"], limits["cpu"])
    files = plan.volume_files(run.objects, workload, run.lookup)
    user = app.get("securityContext", {}).get("runAsUser", 0)
    run_args += _mounts(pod, files, plan.scratch_dirs(app, spec), user)
    if pod.app not in run.initialized:
        for init in spec.get("initContainers", []):
            image_ = run.images[plan.image_name(init["image"])]
            podman("run", "--rm", "--pod", pod.name, *run_args, *env, image_, *init["args"])
        run.initialized.add(pod.app)
    argv = [*app.get("args", []), *plan.loopback_args(app)]
    image_ = run.images[plan.image_name(app["image"])]
    podman("run", "-d", "--pod", pod.name, "--name", pod.app_container, *run_args, *env, image_, *argv)
    config = mesh.sidecar(run.objects, run.pods, pod, MESH_TLS, run.trust_domain)
    directory = _sidecar_dir(pod.name, run.ca, pod.spiffe_id(run.trust_domain), config)
    # The sidecar's limits as Istio's injector reads them from the pod's annotations.
    proxy = _limits(workload.annotations[PROXY_MEMORY_LIMIT], workload.annotations[PROXY_CPU_LIMIT])
    _run_envoy(
        pod.name, pod.sidecar_container, directory, run.images["node"], proxy, mesh.concurrency(run.objects, pod)
    )
    return plan.readiness(app)


def start_ingress(run: Realize) -> None:
    config = mesh.ingress(run.objects, run.pods, MESH_TLS, run.trust_domain, INGRESS_PORT)
    spiffe = spiffe_id(run.trust_domain, EDGE_NAMESPACE, EDGE_ACCOUNT)
    podman(
        "pod",
        "create",
        "--name",
        INGRESS_POD,
        "--label",
        LABEL,
        "--network",
        f"{NETWORK}:ip={INGRESS_IP}",
        # A second network only to publish the edge on the host's loopback; the mesh network has no egress.
        "--network",
        "podman",
        "-p",
        f"127.0.0.1:{EDGE_PORT}:{INGRESS_PORT}",
    )
    edge = _limits(f"{EDGE_SIDECAR.memory_mib}Mi", f"{EDGE_SIDECAR.cpu_limit_millicores}m")
    _run_envoy(INGRESS_POD, INGRESS_SIDECAR, _sidecar_dir("ingress", run.ca, spiffe, config), run.images["node"], edge)


def wait_ready(pods: tuple[state.LabPod, ...], probes: dict[str, list[str]], timeout_s: float = 240) -> None:
    """Every sidecar's admin says LIVE and every app passes its readiness probe inside its pod."""
    deadline = time.monotonic() + timeout_s
    for pod in pods:
        while not (_envoy_live(pod) and succeeds("exec", pod.sidecar_container, *probes[pod.name])):
            exited = podman("inspect", "--format", "{{.State.Status}}", pod.app_container, check=False) != "running"
            if exited or time.monotonic() > deadline:
                logs = podman("logs", "--tail", "15", pod.app_container, check=False)
                raise TimeoutError(f"{pod.name} not ready: {logs}")
            time.sleep(1)


def _envoy_live(pod: state.LabPod) -> bool:
    try:
        return httpx.get(f"http://{pod.ip}:{mesh.HEALTH_PORT}/healthz/ready", timeout=1).text.strip() == "LIVE"
    except httpx.TransportError:
        return False


def _running(pods: tuple[state.LabPod, ...], fingerprint: str) -> bool:
    """Every pod runs, on the network this fingerprint made."""
    label = '{{index .Labels "' + FINGERPRINT + '"}}'
    made_by = podman("network", "inspect", "--format", label, NETWORK, check=False)
    names = set(podman("ps", "--format", "{{.Names}}", check=False).split())
    every = {CA_CONTAINER, *(c for p in pods for c in (p.app_container, p.sidecar_container))}
    return made_by.strip() == fingerprint and every <= names


def _images() -> dict[str, str]:
    """By the image name a Deployment asks for (registry and tag differ at a site), and the lab's own."""
    return {
        "miniapp-services": image("services/image/build.sh"),
        "miniapp-redis": image("lab/images/redis/build.sh"),
        "node": image("lab/images/build.sh", "node"),
    }


def up(objects_file: Path, secrets_file: Path, trust_domain: str, lab_network: str) -> state.LabState | list[str]:
    """Create the mesh, or, when it already runs these objects, images and environment, rewrite its pods'
    volumes from the Secrets as the kubelet would (the pods whose files changed)."""
    objects = mesh.checked([o for o in yaml.safe_load_all(objects_file.read_text()) if o])
    secrets = json.loads(secrets_file.read_text())
    name, hosts = plan.database_of(secrets)
    database, images, lookup = state.Database(name=name, hosts=hosts), _images(), plan.secret_lookup(secrets)
    addresses = outside_hosts(database.hosts + plan.config_centre_hosts(secrets), lab_network)
    pods = mesh.pods_from(objects, PREFIX, FIRST_POD)
    lab = state.build(objects, pods, trust_domain, EDGE_URL, database)
    # The backend's own code counts too: a change to how sidecars are compiled recreates the mesh. Of the
    # Secrets, only what containers take as environment variables: their volumes are updated in place.
    backend = [p.read_text() for p in sorted(Path(__file__).parent.glob("*.py"))]
    environment = plan.env_secrets(objects, lookup)
    fingerprint = hashlib.sha256(
        json.dumps([objects.raw, environment, images, trust_domain, addresses, backend], sort_keys=True).encode()
    ).hexdigest()
    applied = STATE / "applied.sha256"
    # Done here (applied) and what runs is it (the network's label): a mesh realized from another checkout has
    # the same pod names but its own secrets and CA.
    if applied.exists() and applied.read_text() == fingerprint and _running(lab.pods, fingerprint):
        lab.save()
        kubelet.start(STATE)
        return volumes.refresh(STATE, objects, lab.pods, lookup)
    down()
    podman("network", "create", "--internal", "--subnet", SUBNET, "--label", f"{FINGERPRINT}={fingerprint}", NETWORK)
    ca = pki.new_ca(trust_domain)
    run = Realize(objects, pods, images, ca, lookup, trust_domain, lab_network, addresses)
    (STATE / "pods").mkdir(parents=True, exist_ok=True)
    # Every member at first: wait_ready below holds until each pod passed its readiness probe, and from then
    # on the kubelet stand-in writes what the probes find.
    sets = mesh.endpoint_sets(objects, pods)
    endpoints.write(ENDPOINTS, sets, frozenset(p.name for p in pods))
    probes = {pod.name: start_pod(run, pod) for pod in lab.pods}
    start_ingress(run)
    start_ca(ca, images["node"])
    lab.save()
    wait_ready(lab.pods, probes)
    kubelet.start(STATE, kubelet.watched(objects, lab.pods, sets))
    applied.write_text(fingerprint)
    return lab


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.mesh.up", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("objects", nargs="?", type=Path)
    parser.add_argument("secrets", nargs="?", type=Path)
    parser.add_argument("--trust-domain", help="the catalog's trust_domain (services_catalog.trust_domain)")
    parser.add_argument("--lab-network", help="the lab hosts' podman network (lab_network), the database's")
    parser.add_argument("--down", action="store_true")
    args = parser.parse_args()
    if args.down:
        down()
        return 0
    if not (args.objects and args.secrets and args.trust_domain and args.lab_network):
        parser.error(
            "OBJECTS_YML, SECRETS_JSON, --trust-domain and --lab-network are required (lab/playbooks/mesh.yml gives them)"
        )
    lab = up(args.objects, args.secrets, args.trust_domain, args.lab_network)
    if isinstance(lab, list):
        print(f"volumes updated: {', '.join(lab)}" if lab else "mesh unchanged")
    else:
        print(f"mesh up: {len(lab.pods)} pods, ingress at {EDGE_URL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
