"""Read-only and fault-injecting access to the running lab mesh, as kubectl exec and the sidecars' admin
would give it on a cluster: the pods (from .cache/mesh/pods.json), a shell in a pod's network namespace,
sidecar statistics and upstream hosts, container cgroups and SQL on the lab's PostgreSQL. Every address is
one of the project's own containers."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from lab import cgroups
from lab.mesh.compile import ADMIN_PORT
from lab.mesh.plan import OUTBOUND_IP
from lab.mesh.up import DATABASE, SOCKET_DIR, STATE, podman

DATABASE_CONTAINER = "miniapp-mesh-postgres"


class MeshNotUp(RuntimeError):
    pass


def pods() -> list[dict]:
    path = STATE / "pods.json"
    if not path.exists():
        raise MeshNotUp(f"{path} is missing: the lab mesh is not up, run `make lab`")
    return json.loads(path.read_text())


def pod(name: str) -> dict:
    return next(p for p in pods() if p["name"] == name)


def in_pod(name: str, script: str) -> str:
    """Run a shell script in the pod's network namespace (its sidecar container), as kubectl exec would."""
    done = subprocess.run(
        ["podman", "exec", f"{name}-envoy", "sh", "-c", script], capture_output=True, text=True, check=True
    )
    return done.stdout


def stats(name: str, pattern: str) -> dict[str, int]:
    """Counters and gauges of a pod's sidecar whose names match the regex (read from its admin port)."""
    text = httpx.get(f"http://{pod(name)['ip']}:{ADMIN_PORT}/stats", params={"filter": pattern}, timeout=5).text
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if re.search(pattern, key) and value.strip().lstrip("-").isdigit():
            found[key] = int(value)
    return found


def host_flags(name: str, cluster: str) -> dict[str, dict[str, str]]:
    """Per upstream host of one cluster in a pod's sidecar: its health flags and request counters."""
    text = httpx.get(f"http://{pod(name)['ip']}:{ADMIN_PORT}/clusters", timeout=5).text
    hosts: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        parts = line.split("::")
        if len(parts) == 4 and parts[0] == cluster:
            hosts.setdefault(parts[1].rsplit(":", 1)[0], {})[parts[2]] = parts[3]
    return hosts


def calls(name: str, host: str, path: str, n: int, parallel: int = 1) -> list[int]:
    """n GETs of path from the pod through its sidecar's outbound listener to host, at most `parallel` at
    a time; their status codes."""
    urls = " ".join([f"-o /dev/null http://{OUTBOUND_IP}:8080{path}"] * n)
    script = f"curl -s --parallel --parallel-max {parallel} -H 'Host: {host}' -w '%{{http_code}}\\n' {urls}"
    return [int(code) for code in in_pod(name, script).split()]


def set_fault(name: str, spec: dict | None) -> None:
    """PUT (or DELETE, with None) the app's /admin/faults on the pod's loopback."""
    body = json.dumps(spec) if spec else ""
    method = f"-X PUT -H 'content-type: application/json' -d '{body}'" if spec else "-X DELETE"
    in_pod(name, f"curl -sf {method} http://127.0.0.1:8080/admin/faults -o /dev/null")


@dataclass(frozen=True)
class Container:
    pod: str
    name: str
    cgroup: str
    budget_bytes: int


def containers() -> list[Container]:
    """Every app and sidecar container of the mesh's pods, with its cgroup and its memory budget."""
    names = [f"{p['name']}-{part}" for p in pods() for part in ("app", "envoy")]
    inspected = json.loads(podman("inspect", *names))
    return [
        Container(
            pod=item["Name"].rsplit("-", 1)[0],
            name=item["Name"],
            cgroup=item["State"]["CgroupPath"],
            budget_bytes=item["HostConfig"]["Memory"],
        )
        for item in inspected
    ]


def working_set(container: Container) -> int:
    return cgroups.read(container.cgroup).working_set_bytes


def stopped_or_oom_killed(names: list[str]) -> set[str]:
    """The containers among these that the kernel OOM-killed or that no longer run."""
    inspected = json.loads(podman("inspect", *names))
    return {i["Name"] for i in inspected if i["State"].get("OOMKilled") or i["State"].get("Status") != "running"}


def sql(query: str) -> list[str]:
    """Rows (first column) of a query on the lab's database, as its superuser over the container's socket."""
    out = podman(
        "exec", DATABASE_CONTAINER, "psql", "-h", SOCKET_DIR, "-U", "postgres", "-d", DATABASE, "-At", "-c", query
    )
    return [line for line in out.splitlines() if line]


def rendered_objects(path: Path) -> list[dict]:
    return [o for o in yaml.safe_load_all(path.read_text()) if o]
