"""Read-only and fault-injecting access to the running lab mesh, as kubectl exec and the sidecars' admin
would give it on a cluster: the pods (from the lab's state, lab/mesh/state.py), a shell in a pod's network namespace,
sidecar statistics and upstream hosts, container cgroups and SQL on the lab's PostgreSQL. Every address is
one of the project's own containers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from lab import cgroups
from lab.mesh import state
from lab.mesh.compile import ADMIN_PORT, OUTBOUND_IP
from lab.mesh.state import LabPod, MeshNotUp
from lab.podman import inspect, podman

__all__ = ["MeshNotUp", "calls", "containers", "host_flags", "in_pod", "pod", "pods", "set_fault", "sql", "stats"]


def pods() -> tuple[LabPod, ...]:
    return state.load().pods


def pod(name: str) -> LabPod:
    return state.load().pod(name)


def in_pod(name: str, script: str) -> str:
    """Run a shell script in the pod's network namespace (its sidecar container), as kubectl exec would."""
    return podman("exec", pod(name).sidecar_container, "sh", "-c", script)


def stats(name: str, pattern: str) -> dict[str, int]:
    """Counters and gauges of a pod's sidecar whose names match the regex (read from its admin port)."""
    text = httpx.get(f"http://{pod(name).ip}:{ADMIN_PORT}/stats", params={"filter": pattern}, timeout=5).text
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if re.search(pattern, key) and value.strip().lstrip("-").isdigit():
            found[key] = int(value)
    return found


def host_flags(name: str, cluster: str) -> dict[str, dict[str, str]]:
    """Per upstream host of one cluster in a pod's sidecar: its health flags and request counters."""
    text = httpx.get(f"http://{pod(name).ip}:{ADMIN_PORT}/clusters", timeout=5).text
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


def set_fault(name: str, spec: dict[str, Any] | None) -> None:
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
    pod_of = {c: p.name for p in pods() for c in (p.app_container, p.sidecar_container)}
    return [
        Container(
            pod=pod_of[item["Name"]],
            name=item["Name"],
            cgroup=item["State"]["CgroupPath"],
            budget_bytes=item["HostConfig"]["Memory"],
        )
        for item in inspect(*pod_of)
    ]


def working_set(container: Container) -> int:
    return cgroups.read(container.cgroup).working_set_bytes


def stopped_or_oom_killed(names: list[str]) -> set[str]:
    """The containers among these that the kernel OOM-killed or that no longer run."""
    return {i["Name"] for i in inspect(*names) if i["State"].get("OOMKilled") or i["State"].get("Status") != "running"}


def sql(query: str) -> list[str]:
    """Rows (first column) of a query on the lab's database, on its primary now, as the superuser on its socket."""
    db = state.load().database
    for host in db.hosts:
        out = _psql(host, db.name, "SELECT pg_is_in_recovery()")
        if out == ["f"]:
            return _psql(host, db.name, query)
    raise RuntimeError(f"no primary among the database hosts {list(db.hosts)}")


def _psql(host: str, database: str, query: str) -> list[str]:
    argv = ["runuser", "-u", "postgres", "--", "psql", "-h", "/var/run/postgresql", "-d", database, "-XAt", "-c", query]
    out = podman("exec", host, *argv, check=False)
    return [line for line in out.splitlines() if line]


def rendered_objects(path: Path) -> list[dict[str, Any]]:
    return [o for o in yaml.safe_load_all(path.read_text()) if o]
