"""Realize the rendered objects as podman pods, each an app container beside a real Envoy 1.40 sidecar
compiled from the Istio objects, plus the lab's PostgreSQL and the edge ingress. The lab's stand-in for
K3s + istiod; only the project's own containers on the internal network miniapp-mesh are involved.

    python -m lab.mesh.up OBJECTS_YML SECRETS_JSON     # create or replace the mesh
    python -m lab.mesh.up --down                        # remove it
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import envoy
import httpx
import yaml

from lab.mesh import EDGE_PORT, EDGE_URL, pki, plan
from lab.mesh import compile as mesh
from lab.mesh.clusters import TlsFiles

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".cache" / "mesh"
NETWORK, SUBNET, PREFIX = "miniapp-mesh", "10.89.7.0/24", "10.89.7."
DATABASE_IP, INGRESS_IP, FIRST_POD = PREFIX + "5", PREFIX + "6", 10
DATABASE_HOST, DATABASE = "postgresql.data.svc.cluster.local", "miniapp"
INGRESS_PORT, SIDECAR_MEMORY, TRUST_DOMAIN = 8080, "64m", "cluster.local"
LABEL = "miniapp.mesh=lab"
FINGERPRINT = "miniapp.mesh.fingerprint"
SOCKET_DIR = "/tmp"  # noqa: S108  # the database container's own socket directory (start.sh)
ENVOY_BIN = Path(envoy.__file__).parent / "_bin" / "envoy"
MESH_TLS = TlsFiles("/etc/mesh/cert.pem", "/etc/mesh/key.pem", "/etc/mesh/ca.pem")


def podman(*args: str, check: bool = True, stdin: str | None = None) -> str:
    done = subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])}: {done.stderr.strip()[-1500:]}")
    return done.stdout.strip()


def image(script: str, *args: str) -> str:
    """Build the image if its recipe changed; its reference."""
    subprocess.run([ROOT / script, *args], check=True, stdout=subprocess.DEVNULL)
    return subprocess.run(
        [ROOT / script, *args, "--tag-only"], check=True, capture_output=True, text=True
    ).stdout.strip()


def down() -> None:
    for pod in podman("pod", "ps", "--filter", f"label={LABEL}", "--format", "{{.Name}}").split():
        podman("pod", "rm", "-f", "-t", "5", pod, check=False)
    podman("rm", "-f", "-t", "5", "miniapp-mesh-postgres", check=False)
    podman("network", "rm", "-f", NETWORK, check=False)


def start_database(postgres_image: str, secrets: list[dict]) -> None:
    podman(
        "run",
        "-d",
        "--name",
        "miniapp-mesh-postgres",
        "--label",
        LABEL,
        "--network",
        NETWORK,
        "--ip",
        DATABASE_IP,
        postgres_image,
    )
    for _ in range(60):
        if podman("exec", "miniapp-mesh-postgres", "pg_isready", "-h", SOCKET_DIR, check=False).endswith(
            "accepting connections"
        ):
            break
        time.sleep(0.5)
    podman(
        "exec",
        "-i",
        "miniapp-mesh-postgres",
        "psql",
        "-h",
        SOCKET_DIR,
        "-U",
        "postgres",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        stdin=plan.database_roles(secrets, DATABASE),
    )


def _sidecar_dir(name: str, ca: pki.Issued, spiffe: str, config: dict) -> Path:
    directory = STATE / "pods" / name
    pki.write(directory, ca, pki.issue(ca, spiffe))
    (directory / "envoy.json").write_text(json.dumps(config, indent=1))
    return directory


def _run_envoy(pod: str, directory: Path, node_image: str, concurrency: int = mesh.ISTIO_CONCURRENCY) -> None:
    podman(
        "run",
        "-d",
        "--pod",
        pod,
        "--name",
        f"{pod}-envoy",
        "--memory",
        SIDECAR_MEMORY,
        "--stop-signal",
        "SIGTERM",
        "-v",
        f"{ENVOY_BIN}:/usr/local/bin/envoy:ro",
        "-v",
        f"{directory}:/etc/mesh:ro",
        node_image,
        "/usr/local/bin/envoy",
        "-c",
        "/etc/mesh/envoy.json",
        "--concurrency",
        str(concurrency),
        "-l",
        "warning",
    )


def _deployment(objects: list[dict], pod: mesh.Pod) -> dict:
    """The Deployment whose template made this pod (its namespace and app and version labels)."""
    return next(
        o
        for o in objects
        if o["kind"] == "Deployment"
        and o["metadata"]["namespace"] == pod.namespace
        and o["spec"]["template"]["metadata"]["labels"] == {"app": pod.app, "version": pod.version}
    )


def _mounts(pod: mesh.Pod, files: dict[str, plan.Projection], scratch: list[str], user: int) -> list[str]:
    """podman arguments that project the pod's volume files read-only (a Secret's readable by the container's
    user alone, 0400) and give each emptyDir a tmpfs."""
    args = []
    for mount_path, projection in files.items():
        directory = STATE / "pods" / pod.name / "volumes" / mount_path.strip("/").replace("/", "_")
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in projection.files.items():
            path = directory / name
            path.touch(mode=0o600)
            path.write_text(content)
            if projection.secret:
                os.chown(path, user, -1)
                path.chmod(0o400)
            else:
                path.chmod(0o644)
        args += ["-v", f"{directory}:{mount_path}:ro"]
    return args + [a for path in scratch for a in ("--tmpfs", path)]


def start_pod(
    objects: list[dict],
    pods: list[mesh.Pod],
    pod: mesh.Pod,
    images: dict[str, str],
    ca: pki.Issued,
    lookup: plan.SecretLookup,
    initialized: set[str],
) -> list[str]:
    """The pod as the kubelet would start it: its init containers (once per app, as the first pod's would
    have done it for the others), its container with its limits, volumes and arguments, and its sidecar.
    Returns its readiness probe as a command."""
    spec = _deployment(objects, pod)["spec"]["template"]["spec"]
    app = spec["containers"][0]
    hosts = [a for h in plan.host_entries(objects, DATABASE_HOST, DATABASE_IP) for a in ("--add-host", h)]
    podman("pod", "create", "--name", pod.name, "--label", LABEL, "--network", NETWORK, "--ip", pod.ip, *hosts)
    env = [a for k, v in plan.app_env(app, pod.namespace, lookup).items() for a in ("-e", f"{k}={v}")]
    limits = app["resources"]["limits"]
    run_args = ["--memory", limits["memory"].replace("Mi", "m"), "--cpus", str(int(limits["cpu"].rstrip("m")) / 1000)]
    files = plan.volume_files(objects, app, spec, pod.namespace, lookup)
    user = app.get("securityContext", {}).get("runAsUser", 0)
    run_args += _mounts(pod, files, plan.scratch_dirs(app, spec), user)
    if pod.app not in initialized:
        for init in spec.get("initContainers", []):
            podman("run", "--rm", "--pod", pod.name, *env, images[plan.image_name(init["image"])], *init["args"])
        initialized.add(pod.app)
    argv = [*app.get("args", []), *plan.loopback_args(app)]
    image_ = images[plan.image_name(app["image"])]
    podman("run", "-d", "--pod", pod.name, "--name", f"{pod.name}-app", *run_args, *env, image_, *argv)
    spiffe = f"spiffe://{TRUST_DOMAIN}/ns/{pod.namespace}/sa/{pod.account}"
    _run_envoy(
        pod.name,
        _sidecar_dir(pod.name, ca, spiffe, mesh.sidecar(objects, pods, pod, MESH_TLS, TRUST_DOMAIN)),
        images["node"],
        mesh.concurrency(objects, pod),
    )
    return plan.readiness(app)


def start_ingress(objects: list[dict], pods: list[mesh.Pod], images: dict[str, str], ca: pki.Issued) -> None:
    edge = {mesh.fqdn(s) for s in objects if s["kind"] == "Service" and s["metadata"]["name"] == "gateway"}
    config = mesh.ingress(objects, pods, MESH_TLS, TRUST_DOMAIN, edge, INGRESS_PORT)
    spiffe = f"spiffe://{TRUST_DOMAIN}/ns/{mesh.EDGE_NAMESPACE}/sa/{mesh.EDGE_ACCOUNT}"
    podman(
        "pod",
        "create",
        "--name",
        "miniapp-mesh-ingress",
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
    _run_envoy("miniapp-mesh-ingress", _sidecar_dir("ingress", ca, spiffe, config), images["node"])


def wait_ready(pods: list[mesh.Pod], probes: dict[str, list[str]], timeout_s: float = 240) -> None:
    """Every sidecar's admin says LIVE and every app passes its readiness probe inside its pod."""
    deadline = time.monotonic() + timeout_s
    for pod in pods:
        while not (_envoy_live(pod) and _app_ready(pod, probes[pod.name])):
            exited = podman("inspect", "--format", "{{.State.Status}}", f"{pod.name}-app", check=False) != "running"
            if exited or time.monotonic() > deadline:
                raise TimeoutError(
                    f"{pod.name} not ready: {podman('logs', '--tail', '15', pod.name + '-app', check=False)}"
                )
            time.sleep(1)


def _envoy_live(pod: mesh.Pod) -> bool:
    try:
        return httpx.get(f"http://{pod.ip}:{mesh.ADMIN_PORT}/ready", timeout=1).text.strip() == "LIVE"
    except httpx.TransportError:
        return False


def _app_ready(pod: mesh.Pod, probe: list[str]) -> bool:
    """The probe, run from the pod's sidecar container (it shares the app's network, and has curl and bash)."""
    return (
        subprocess.run(["podman", "exec", f"{pod.name}-envoy", *probe], capture_output=True, check=False).returncode
        == 0
    )


def _running(pods: list[mesh.Pod], fingerprint: str) -> bool:
    """Every pod runs, on the network this fingerprint made."""
    label = '{{index .Labels "' + FINGERPRINT + '"}}'
    made_by = podman("network", "inspect", "--format", label, NETWORK, check=False)
    names = set(podman("ps", "--format", "{{.Names}}", check=False).split())
    return made_by.strip() == fingerprint and all({f"{p.name}-app", f"{p.name}-envoy"} <= names for p in pods)


def up(objects_file: Path, secrets_file: Path) -> list[mesh.Pod] | None:
    """Create the mesh, or leave it when it already runs exactly these objects, secrets and images (None)."""
    objects = mesh.checked([o for o in yaml.safe_load_all(objects_file.read_text()) if o])
    secrets = json.loads(secrets_file.read_text())
    # By the image name a Deployment asks for (registry and tag differ at a site), and the lab's own.
    images = {
        "miniapp-services": image("services/image/build.sh"),
        "miniapp-redis": image("lab/images/redis/build.sh"),
        "postgres": image("lab/images/postgres/build.sh"),
        "node": image("lab/images/build.sh", "node"),
    }
    # The backend's own code counts too: a change to how sidecars are compiled recreates the mesh.
    backend = [p.read_text() for p in sorted(Path(__file__).parent.glob("*.py"))]
    fingerprint = hashlib.sha256(json.dumps([objects, secrets, images, backend], sort_keys=True).encode()).hexdigest()
    applied = STATE / "applied.sha256"
    # Done here (applied) and what runs is it (the network's label): a mesh realized from another checkout has
    # the same pod names but its own secrets and CA.
    if (
        applied.exists()
        and applied.read_text() == fingerprint
        and _running(mesh.pods_from(objects, PREFIX, FIRST_POD), fingerprint)
    ):
        return None
    down()
    podman("network", "create", "--internal", "--subnet", SUBNET, "--label", f"{FINGERPRINT}={fingerprint}", NETWORK)
    start_database(images["postgres"], secrets)
    pods, ca, initialized = mesh.pods_from(objects, PREFIX, FIRST_POD), pki.new_ca(TRUST_DOMAIN), set()
    (STATE / "pods").mkdir(parents=True, exist_ok=True)
    lookup = plan.secret_lookup(secrets)
    probes = {pod.name: start_pod(objects, pods, pod, images, ca, lookup, initialized) for pod in pods}
    start_ingress(objects, pods, images, ca)
    listed = [vars(p) | {"metrics_port": plan.metrics_port(objects, p.namespace, p.app, p.version)} for p in pods]
    (STATE / "pods.json").write_text(json.dumps(listed, indent=1))
    wait_ready(pods, probes)
    applied.write_text(fingerprint)
    return pods


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.mesh.up", description=__doc__.splitlines()[0])
    parser.add_argument("objects", nargs="?", type=Path)
    parser.add_argument("secrets", nargs="?", type=Path)
    parser.add_argument("--down", action="store_true")
    args = parser.parse_args()
    if args.down:
        down()
        return 0
    if not (args.objects and args.secrets):
        parser.error("OBJECTS_YML and SECRETS_JSON are required (written by site.yml's services role)")
    pods = up(args.objects, args.secrets)
    if pods is None:
        print("mesh unchanged")
    else:
        print(f"mesh up: {len(pods)} pods, ingress at {EDGE_URL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
