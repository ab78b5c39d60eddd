"""Run the real Prometheus (Debian's build, bind-mounted into the node image) in a pod on the lab mesh's
network, with the cAdvisor stand-in beside it, scraping what the rendered configuration names: every
sidecar's 15090 stats listener, every service's metrics port, the stand-in and the lab's etcd members.

    python -m lab.observability.up PROMETHEUS_DIR RETENTION   # PROMETHEUS_DIR: prometheus.yml and rules/
    python -m lab.observability.up --down

Targets come from the mesh's pods (the lab's state, lab/mesh/state.py); run after lab.mesh.up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import EDGE_APP, EDGE_NAMESPACE
from lab.mesh import compile as mesh
from lab.mesh import state
from lab.mesh.state import LabPod
from lab.mesh.up import INGRESS_IP, LABEL, NETWORK, PREFIX, STATE, image
from lab.podman import inspect, podman

POD, IP = "miniapp-mesh-prometheus", PREFIX + "7"
HOST_PORT, STANDIN_PORT = 19090, 8081  # Prometheus on http://127.0.0.1:19090
PROMETHEUS_BIN = Path("/usr/bin/prometheus")
LAB_NETWORK = "miniapp-lab"  # the lab hosts' network (etcd); joined when it exists
WORK = STATE / "prometheus"
ROOT = Path(__file__).resolve().parents[2]
URL = f"http://127.0.0.1:{HOST_PORT}"


def _group(ip: str, port: int, namespace: str, pod: str, app: str, version: str) -> dict[str, Any]:
    labels = {"namespace": namespace, "pod": pod, "app": app, "version": version}
    return {"targets": [f"{ip}:{port}"], "labels": labels}


def targets(pods: tuple[LabPod, ...]) -> dict[str, list[dict[str, Any]]]:
    """file_sd groups per job, labelled as the cluster's Kubernetes discovery labels them."""
    edge = _group(INGRESS_IP, mesh.STATS_PORT, EDGE_NAMESPACE, "ingress", EDGE_APP, "")
    return {
        "envoy-stats": [*(_group(p.ip, mesh.STATS_PORT, p.namespace, p.name, p.app, p.version) for p in pods), edge],
        "miniapp-services": [
            _group(p.ip, p.metrics_port, p.namespace, p.name, p.app, p.version) for p in pods if p.metrics_port
        ],
        "kubernetes-cadvisor": [{"targets": [f"127.0.0.1:{STANDIN_PORT}"], "labels": {"node": "lab"}}],
    }


def containers(pods: tuple[LabPod, ...]) -> list[dict[str, Any]]:
    """Each pod's app and sidecar with its cgroup, named as the kubelet names them (app, istio-proxy)."""
    named = {
        c: (p, kubelet) for p in pods for c, kubelet in ((p.app_container, "app"), (p.sidecar_container, "istio-proxy"))
    }
    # One podman call for every container: a call each cost a second of every rerun.
    cgroup = {item["Name"]: item["State"]["CgroupPath"] for item in inspect(*named)}
    return [
        {"namespace": pod.namespace, "pod": pod.name, "container": kubelet, "cgroup": cgroup[name]}
        for name, (pod, kubelet) in named.items()
    ]


def _write(path: Path, text: str) -> bool:
    """Write when different; whether it was."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def stage(source: Path, pods: tuple[LabPod, ...]) -> str:
    """Copy the configuration and rules into the pod's mounted directory and write the targets; returns the
    fingerprint of what needs a reload (configuration and rules; targets are re-read by Prometheus itself)."""
    rules = sorted((source / "rules").glob("*.yml"))
    _write(WORK / "prometheus.yml", (source / "prometheus.yml").read_text())
    shutil.rmtree(WORK / "rules", ignore_errors=True)
    for rule in rules:
        _write(WORK / "rules" / rule.name, rule.read_text())
    for job, groups in targets(pods).items():
        _write(WORK / "targets" / f"{job}.json", json.dumps(groups, indent=1))
    _write(WORK / "containers.json", json.dumps(containers(pods), indent=1))
    loaded = [source / "prometheus.yml", *rules]
    return hashlib.sha256(b"".join(p.read_bytes() for p in loaded)).hexdigest()


def start(node_image: str, retention: str) -> None:
    networks = ["--network", f"{NETWORK}:ip={IP}", "--network", "podman"]
    if LAB_NETWORK in podman("network", "ls", "--format", "{{.Name}}", check=False).split():
        networks += ["--network", LAB_NETWORK]
    podman("pod", "create", "--name", POD, "--label", LABEL, *networks, "-p", f"127.0.0.1:{HOST_PORT}:9090")
    podman(
        "run", "-d", "--pod", POD, "--name", f"{POD}-server", "--memory", "512m",
        "-v", f"{PROMETHEUS_BIN}:/usr/local/bin/prometheus:ro", "-v", f"{WORK}:/etc/prometheus:ro",
        node_image, "/usr/local/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/var/lib/prometheus", f"--storage.tsdb.retention.time={retention}",
        "--web.listen-address=:9090", "--web.enable-lifecycle", "--enable-feature=exemplar-storage",
    )  # fmt: skip
    podman(
        "run", "-d", "--pod", POD, "--name", f"{POD}-cadvisor-standin", "--memory", "64m",
        "-v", f"{ROOT / 'lab'}:/opt/lab/lab:ro", "-v", "/sys/fs/cgroup:/host/cgroup:ro",
        "-v", f"{WORK}:/etc/prometheus:ro", "-e", "PYTHONPATH=/opt/lab", "-e", "PYTHONDONTWRITEBYTECODE=1",
        node_image, "python3", "-m", "lab.observability.cadvisor_standin",
        "/etc/prometheus/containers.json", str(STANDIN_PORT), "/host/cgroup",
    )  # fmt: skip


def wait_ready(timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{URL}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Prometheus not ready: {podman('logs', '--tail', '20', f'{POD}-server', check=False)}")


def _running() -> bool:
    names = set(podman("ps", "--format", "{{.Names}}", check=False).split())
    return {f"{POD}-server", f"{POD}-cadvisor-standin"} <= names


def up(source: Path, retention: str) -> str:
    """Create Prometheus, reload its configuration, or leave it; says which."""
    pods = state.load().pods
    node_image = image("lab/images/build.sh", "node")
    wanted = {"config": stage(source, pods), "runtime": f"{node_image} {retention}"}
    applied_file = WORK / "applied.json"
    applied = json.loads(applied_file.read_text()) if applied_file.exists() else {}
    if _running() and applied.get("runtime") == wanted["runtime"]:
        if applied.get("config") == wanted["config"]:
            return "prometheus unchanged"
        if httpx.post(f"{URL}/-/reload", timeout=10).status_code == 200:
            applied_file.write_text(json.dumps(wanted))
            return "prometheus reloaded"
    down()
    start(node_image, retention)
    wait_ready()
    applied_file.write_text(json.dumps(wanted))
    return f"prometheus up: {URL}"


def down() -> None:
    podman("pod", "rm", "-f", "-t", "5", POD, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.observability.up", description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="directory with prometheus.yml and rules/")
    parser.add_argument("retention", nargs="?", default="2d")
    parser.add_argument("--down", action="store_true")
    args = parser.parse_args()
    if args.down:
        down()
        return 0
    if args.source is None:
        parser.error("PROMETHEUS_DIR is required (written by site.yml's observability role)")
    print(up(args.source, args.retention))
    return 0


if __name__ == "__main__":
    sys.exit(main())
