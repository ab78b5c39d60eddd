"""The running lab as one typed state: built once by lab.mesh.up from the checked objects, written beside the
mesh, read by the probes, observability, the handover load and the benchmarks. Services by FQDN (namespace,
ports, subset weights, the principals their AuthorizationPolicies admit), pods by version with their
identities and containers. Names are values here, never assembled or split by the readers."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_catalog import principal, spiffe_id
from lab.mesh import compile as mesh
from lab.mesh import plan
from lab.mesh.objects import MeshService, Objects

STATE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "mesh"
STATE_FILE = STATE_DIR / "state.json"


class MeshNotUp(RuntimeError):
    pass


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabPod(mesh.Pod):
    """A realized pod: the compiler's pod with the Service that selects it and its containers."""

    service: str
    """FQDN of the Service that selects the pod."""
    app_container: str
    sidecar_container: str
    metrics_port: int | None = None

    def principal(self, trust_domain: str) -> str:
        return principal(trust_domain, self.namespace, self.account)

    def spiffe_id(self, trust_domain: str) -> str:
        return spiffe_id(trust_domain, self.namespace, self.account)


class LabService(_Frozen):
    fqdn: str
    name: str
    namespace: str
    ports: tuple[int, ...]
    weights: dict[str, int]
    """Subset weights of the default route of its VirtualService (empty without one)."""
    callers: tuple[str, ...] | None
    """Principals its ALLOW policies admit; None when no policy selects it (everyone in the mesh)."""


class Database(_Frozen):
    """The services' database: the postgresql role's cluster on the lab's postgres hosts."""

    name: str
    hosts: tuple[str, ...]
    """The lab hosts (containers) running its members, as the services' URLs name them."""


class LabState(_Frozen):
    trust_domain: str
    edge_url: str
    database: Database
    services: tuple[LabService, ...]
    pods: tuple[LabPod, ...]

    @cached_property
    def _pods(self) -> dict[str, LabPod]:
        return {p.name: p for p in self.pods}

    def pod(self, name: str) -> LabPod:
        if name not in self._pods:
            raise LookupError(f"no pod {name} in the lab mesh; its pods: {', '.join(self._pods)}")
        return self._pods[name]

    def service(self, name_or_fqdn: str) -> LabService:
        """A service by its FQDN or by its short name (unique across namespaces in the catalog)."""
        found = [s for s in self.services if name_or_fqdn in (s.fqdn, s.name)]
        if len(found) != 1:
            raise LookupError(f"{name_or_fqdn} names {len(found)} services of the lab mesh, not one")
        return found[0]

    def pods_of(self, service: str, version: str | None = None) -> list[LabPod]:
        """The service's pods (all, or one version's), in the order the Deployments made them."""
        fqdn = self.service(service).fqdn
        return [p for p in self.pods if p.service == fqdn and version in (None, p.version)]

    def callers_of(self, service: str) -> list[LabPod]:
        """The pods whose identity the service's policies admit (the sidecars that eject and overflow)."""
        callers = self.service(service).callers
        return [p for p in self.pods if callers is None or p.principal(self.trust_domain) in callers]

    def save(self, path: Path = STATE_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=1))


def load(path: Path = STATE_FILE) -> LabState:
    if not path.exists():
        raise MeshNotUp(f"{path} is missing: the lab mesh is not up, run `make lab`")
    return LabState.model_validate_json(path.read_text())


def _weights(service: MeshService) -> dict[str, int]:
    """Subset weights of the service's unmatched (default) route, from its rendered VirtualService."""
    if service.routes is None:
        return {}
    default = next(r for r in service.routes["http"] if not r.get("match"))
    return {d["destination"]["subset"]: d.get("weight", 100) for d in default["route"]}


def _service(objects: Objects, service: MeshService) -> LabService:
    callers = objects.principals(service.namespace, service.app)
    return LabService(
        fqdn=service.fqdn,
        name=service.name,
        namespace=service.namespace,
        ports=tuple(p.number for p in service.ports),
        weights=_weights(service),
        callers=None if callers is None else tuple(sorted(callers)),
    )


def build(objects: Objects, pods: list[mesh.Pod], trust_domain: str, edge_url: str, database: Database) -> LabState:
    """The state of a mesh realized from these checked objects and pods."""
    services = tuple(_service(objects, s) for s in objects.services.values())
    lab_pods = tuple(
        LabPod(
            **p.model_dump(),
            service=objects.service_of(p.namespace, p.app).fqdn,
            app_container=f"{p.name}-app",
            sidecar_container=f"{p.name}-envoy",
            metrics_port=plan.metrics_port(objects.workload(p.namespace, p.app, p.version)),
        )
        for p in pods
    )
    return LabState(trust_domain=trust_domain, edge_url=edge_url, database=database, services=services, pods=lab_pods)
