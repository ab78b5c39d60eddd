"""Read-only and fault-injecting access to the running lab mesh, as kubectl exec and the sidecars' admin
would give it on a cluster: the pods (from the lab's state, lab/mesh/state.py), a shell in a pod's network namespace,
sidecar statistics (from the stats port, as Prometheus reads them), container cgroups and SQL on the lab's PostgreSQL. Every address is
one of the project's own containers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from lab import cgroups
from lab.mesh import kubelet, state
from lab.mesh.compile import OUTBOUND_IP, STATS_PORT
from lab.mesh.state import LabPod, MeshNotUp
from lab.podman import PodmanError, inspect, podman
from miniapp_services.kit import tenancy

__all__ = [
    "MeshNotUp",
    "calls",
    "containers",
    "database_healthy",
    "database_leader",
    "database_members",
    "in_pod",
    "members",
    "pod",
    "pods",
    "served",
    "set_fault",
    "sql",
    "stats",
    "stop_primary",
    "until",
]


def pods() -> tuple[LabPod, ...]:
    return state.load().pods


def pod(name: str) -> LabPod:
    return state.load().pod(name)


def in_pod(name: str, script: str) -> str:
    """Run a shell script in the pod's network namespace (its sidecar container), as kubectl exec would."""
    return podman("exec", pod(name).sidecar_container, "sh", "-c", script)


# Every app's HTTP port inside its pod, on loopback (the sidecar answers the pod's address).
APP_PORT = 8080


@dataclass(frozen=True)
class Write:
    """A JSON body PUT to a pod's app on its loopback as one tenant's (an operator's write, past the gateway)."""

    path: str
    body: dict[str, Any]
    tenant: str


def put_all(name: str, writes: Sequence[Write]) -> None:
    """Every write in one curl process (its configuration from stdin), so one connection carries them all; the
    first refused stops the rest and raises. Hundreds of tenants' catalogues cost seconds, not a process each."""
    blocks = [
        "\n".join(
            [
                f"url = {_quoted(f'http://127.0.0.1:{APP_PORT}{w.path}')}",
                'request = "PUT"',
                'header = "content-type: application/json"',
                f"header = {_quoted(f'{tenancy.HEADER}: {w.tenant}')}",
                f"data = {_quoted(json.dumps(w.body))}",
                'output = "/dev/null"',
                "fail",
            ]
        )
        for w in writes
    ]
    if blocks:
        config = "\nnext\n".join(blocks) + "\n"
        podman("exec", "-i", pod(name).sidecar_container, "curl", "-s", "--fail-early", "--config", "-", stdin=config)


def _quoted(value: str) -> str:
    """A string as curl's configuration file quotes it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stats(name: str, pattern: str) -> dict[str, int]:
    """Counters and gauges of a pod's sidecar whose Envoy names match the regex, read where Prometheus reads them:
    the stats port (15090); the admin API answers on the pod's loopback only. Keyed as `envoy_names` says."""
    url = f"http://{pod(name).ip}:{STATS_PORT}/stats/prometheus"
    return envoy_names(httpx.get(url, params={"filter": pattern}, timeout=5).text)


_SAMPLE = re.compile(r"^(?P<metric>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def envoy_names(exposition: str) -> dict[str, int]:
    """Prometheus exposition of Envoy's stats keyed as Envoy names them, with the extracted tags put back:
    `envoy_cluster_upstream_rq{response_code_class="2xx",cluster_name="inbound|8080||"}` is
    `cluster.inbound|8080||.upstream_rq_2xx`. Within a stat Prometheus' underscores stay
    (`outlier_detection_ejections_active`): Envoy's dots there cannot be told from its underscores."""
    found: dict[str, int] = {}
    for line in exposition.splitlines():
        sample = _SAMPLE.match(line)
        if not sample or not sample["value"].lstrip("-").isdigit():
            continue
        labels = dict(_LABEL.findall(sample["labels"] or ""))
        stat = sample["metric"].removeprefix("envoy_")
        for tag in ("response_code_class", "response_code"):
            if tag in labels:
                stat += f"_{labels.pop(tag)}"
        if stat.startswith("cluster_") and "cluster_name" in labels:
            stat = f"cluster.{labels.pop('cluster_name')}.{stat.removeprefix('cluster_')}"
        rest = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        found[stat + (f"{{{rest}}}" if rest else "")] = int(sample["value"])
    return found


def served(name: str, port: int = APP_PORT) -> int:
    """Requests a pod's sidecar passed to its app on a port that the app answered without a 5xx."""
    found = stats(name, rf"^cluster\.inbound\|{port}\|\|\.upstream_rq_[1-4]xx$")
    return sum(found.get(f"cluster.inbound|{port}||.upstream_rq_{n}xx", 0) for n in range(1, 5))


def members(caller: str, cluster: str) -> int:
    """The endpoints a caller's sidecar holds for one of its outbound clusters (Envoy's membership_total)."""
    stat = f"cluster.{cluster}.membership_total"
    return stats(caller, "^" + re.escape(stat) + "$").get(stat, 0)


def started(container: str) -> str:
    """Its state and start time as podman has them ("" when it does not exist): a new start changes it."""
    return podman("inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", container, check=False)


def ready_again(name: str, before: str) -> bool:
    """The pod's app container started again since `before` (started()'s reading then), running and ready
    (its readiness endpoint, from inside the pod)."""
    now = started(pod(name).app_container)
    ready = in_pod(name, f"curl -s -o /dev/null -w '%{{http_code}}' -m 2 http://127.0.0.1:{APP_PORT}/readyz || true")
    return now != before and now.startswith("running") and ready == "200"


def calls(name: str, host: str, path: str, n: int, *, tenant: str, parallel: int = 1) -> list[int]:
    """n GETs of path from the pod through its sidecar's outbound listener to host, at most `parallel` at
    a time, each for the tenant as the gateway names it; their status codes."""
    urls = " ".join([f"-o /dev/null http://{OUTBOUND_IP}:8080{path}"] * n)
    headers = f"-H 'Host: {host}' -H '{tenancy.HEADER}: {tenancy.checked(tenant)}'"
    script = f"curl -s --parallel --parallel-max {parallel} {headers} -w '%{{http_code}}\\n' {urls}"
    return [int(code) for code in in_pod(name, script).split()]


def set_fault(name: str, spec: dict[str, Any] | None) -> None:
    """PUT (or DELETE, with None) the app's /admin/faults on the pod's loopback."""
    body = json.dumps(spec) if spec else ""
    method = f"-X PUT -H 'content-type: application/json' -d '{body}'" if spec else "-X DELETE"
    in_pod(name, f"curl -sf {method} http://127.0.0.1:{APP_PORT}/admin/faults -o /dev/null")


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


def usage(container: Container) -> cgroups.Usage:
    """Its working set and CPU time now; OSError when its cgroup is gone (the container stopped or was recreated)."""
    return cgroups.read(container.cgroup)


def current(container: Container) -> tuple[Container | None, bool]:
    """The container as it runs now (its cgroup moves when it is recreated), None when it is not running; and
    whether the kernel OOM-killed it (podman forgets that once it is started again)."""
    try:
        now = inspect(container.name)[0]["State"]
    except PodmanError:  # removed: as good as not running
        now = {}
    if now.get("Status") != "running":
        return None, bool(now.get("OOMKilled"))
    return Container(container.pod, container.name, now["CgroupPath"], container.budget_bytes), False


def oom_killed_since(since: float) -> set[str]:
    """The containers the kernel OOM-killed since then and the kubelet stand-in started again (podman forgets
    it once a container runs again; the stand-in records it as the pod's status would)."""
    return {t.container for t in kubelet.terminations(state.STATE_DIR, since) if t.oom_killed}


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


def database_members() -> dict[str, str]:
    """Patroni's members by name -> role ("Leader", "Sync Standby", "Replica"), as any running member lists them."""
    for host in state.load().database.hosts:
        listed = podman("exec", host, "patronictl", "-c", "/etc/patroni/config.yml", "list", "--format", "json",
                        check=False)  # fmt: skip
        if listed:
            return {m["Member"]: m["Role"] for m in json.loads(listed)}
    return {}


def database_leader(other_than: str | None = None) -> str | None:
    """The member leading now (one other than the named one), if any."""
    leaders = [name for name, role in database_members().items() if role == "Leader" and name != other_than]
    return leaders[0] if leaders else None


def database_healthy() -> bool:
    """A leader and a synchronous standby: the pair Patroni can fail over without losing a commit."""
    return sorted(database_members().values()) == ["Leader", "Sync Standby"]


def stop_primary(primary: str, bound_s: float) -> float | None:
    """Stop the primary's host (podman stop, orderly: a power-off) and poll until another member leads: the seconds
    from the stop, or None past the bound. Both at once: Patroni hands over while the host shuts down."""
    stopping = threading.Thread(target=podman, args=("stop", "-t", "30", primary), daemon=True)
    stopping.start()
    promoted = until(lambda: database_leader(other_than=primary), bound_s)
    stopping.join(timeout=60)
    return promoted


def until(condition: Callable[[], object], bound_s: float) -> float | None:
    """Poll twice a second until the condition holds: the seconds it took, or None once the bound passed."""
    start = time.monotonic()
    while time.monotonic() - start < bound_s:
        if condition():
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def _psql(host: str, database: str, query: str) -> list[str]:
    argv = ["runuser", "-u", "postgres", "--", "psql", "-h", "/var/run/postgresql", "-d", database, "-XAt", "-c", query]
    out = podman("exec", host, *argv, check=False)
    return [line for line in out.splitlines() if line]


def rendered_objects(path: Path) -> list[dict[str, Any]]:
    return [o for o in yaml.safe_load_all(path.read_text()) if o]
