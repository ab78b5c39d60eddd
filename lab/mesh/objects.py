"""The checked Kubernetes and Istio objects, indexed once by what the lab looks up per pod.

The compiler, the pod planner and the lab state read services by FQDN (with their ports, DestinationRule and
VirtualService), workloads by namespace, app and version (with their pod template), what each workload's
Sidecar lets it reach and which principals its AuthorizationPolicies admit, instead of rescanning the object
list for every pod. The Istio specs stay the validated mappings `istio_models` checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TCP_IPS = "127.0.1."  # one loopback address per TCP service (plain TCP has no Host header to route by)


@dataclass(frozen=True)
class Port:
    number: int
    http2: bool
    tcp: bool = False


@dataclass(frozen=True, eq=False)
class MeshService:
    fqdn: str
    name: str
    namespace: str
    app: str
    ports: tuple[Port, ...]
    rule: dict[str, Any] | None  # its DestinationRule's spec
    routes: dict[str, Any] | None  # its VirtualService's spec


@dataclass(frozen=True, eq=False)
class Workload:
    """One Deployment: the pod template each of its replicas is made from."""

    name: str
    namespace: str
    app: str
    version: str
    account: str
    replicas: int
    annotations: dict[str, str]
    pod_spec: dict[str, Any]

    @property
    def container(self) -> dict[str, Any]:
        """The app container (the sidecar is the lab's, not the template's)."""
        container: dict[str, Any] = self.pod_spec["containers"][0]
        return container


@dataclass(frozen=True, eq=False)
class Objects:
    raw: list[dict[str, Any]]
    services: dict[str, MeshService]
    workloads: dict[tuple[str, str, str], Workload]
    egress: dict[tuple[str, str], frozenset[str]]
    policies: dict[str, list[tuple[str | None, tuple[str, ...]]]]
    config_maps: dict[tuple[str, str], dict[str, str]]
    tcp: dict[str, str]

    def service_of(self, namespace: str, app: str) -> MeshService:
        return next(s for s in self.services.values() if s.namespace == namespace and s.app == app)

    def workload(self, namespace: str, app: str, version: str) -> Workload:
        return self.workloads[(namespace, app, version)]

    def reachable(self, namespace: str, app: str) -> set[str]:
        """Hosts the workload's Sidecar lets it reach (every service when it has none)."""
        return set(self.services) & self.egress.get((namespace, app), frozenset(self.services))

    def principals(self, namespace: str, app: str) -> list[str] | None:
        """Source principals the ALLOW policies selecting the workload admit; None when none selects it."""
        found: list[str] | None = None
        for selected, principals in self.policies.get(namespace, []):
            if selected in (None, app):
                found = [*(found or []), *principals]
        return found


def fqdn(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['name']}.{obj['metadata']['namespace']}.svc.cluster.local"


def service_ports(service: dict[str, Any]) -> tuple[Port, ...]:
    """Each port's protocol as Istio selects it: appProtocol, else the port name's prefix (http, grpc, tcp)."""
    ports = []
    for p in service["spec"]["ports"]:
        protocol = p.get("appProtocol") or p.get("name", "").split("-", 1)[0]
        ports.append(Port(p["port"], protocol in ("grpc", "http2"), protocol == "tcp"))
    return tuple(ports)


def _kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def _services(objects: list[dict[str, Any]]) -> dict[str, MeshService]:
    rules = {o["spec"]["host"]: o["spec"] for o in _kind(objects, "DestinationRule")}
    virtual = {h: o["spec"] for o in _kind(objects, "VirtualService") for h in o["spec"]["hosts"]}
    services = {}
    for s in _kind(objects, "Service"):
        host, meta = fqdn(s), s["metadata"]
        services[host] = MeshService(host, meta["name"], meta["namespace"], s["spec"]["selector"]["app"],
                                     service_ports(s), rules.get(host), virtual.get(host))  # fmt: skip
    return services


def _workload(deployment: dict[str, Any]) -> Workload:
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    return Workload(
        name=deployment["metadata"]["name"],
        namespace=deployment["metadata"]["namespace"],
        app=labels["app"],
        version=labels["version"],
        account=template["spec"]["serviceAccountName"],
        replicas=deployment["spec"]["replicas"],
        annotations=dict(template["metadata"].get("annotations", {})),
        pod_spec=template["spec"],
    )


def _policies(objects: list[dict[str, Any]]) -> dict[str, list[tuple[str | None, tuple[str, ...]]]]:
    """Per namespace: (the app a policy selects, None for the whole namespace; the principals it admits)."""
    found: dict[str, list[tuple[str | None, tuple[str, ...]]]] = {}
    for policy in _kind(objects, "AuthorizationPolicy"):
        app = policy["spec"].get("selector", {}).get("matchLabels", {}).get("app")
        rules = policy["spec"].get("rules", [])
        principals = tuple(p for r in rules for f in r.get("from", []) for p in f["source"].get("principals", []))
        found.setdefault(policy["metadata"]["namespace"], []).append((app, principals))
    return found


def index(objects: list[dict[str, Any]]) -> Objects:
    """The objects (already checked by the strict models) indexed for per-pod lookups."""
    services = _services(objects)
    tcp_hosts = sorted(h for h, s in services.items() if any(p.tcp for p in s.ports))
    egress = {
        (o["metadata"]["namespace"], o["spec"]["workloadSelector"]["labels"]["app"]): frozenset(
            h.split("/", 1)[1] for e in o["spec"]["egress"] for h in e["hosts"]
        )
        for o in _kind(objects, "Sidecar")
    }
    workloads = (_workload(d) for d in _kind(objects, "Deployment"))
    return Objects(
        raw=objects,
        services=services,
        workloads={(w.namespace, w.app, w.version): w for w in workloads},
        egress=egress,
        policies=_policies(objects),
        config_maps={
            (o["metadata"]["namespace"], o["metadata"]["name"]): o["data"] for o in _kind(objects, "ConfigMap")
        },
        tcp={host: f"{TCP_IPS}{i + 1}" for i, host in enumerate(tcp_hosts)},
    )
