# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The service catalog, checked and completed: every service with its defaults filled in.

Pure functions over plain data; errors name the field and the fix. Used by the mesh filters on the
controller and by the lab backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .mesh_tracing import Tracing, TracingError
from .mesh_tracing import load as load_tracing

EDGE_CALLER = "ingress"
_SERVICE_KEYS = {
    "namespace",
    "tier",
    "replicas",
    "memory_mib",
    "cpu_millicores",
    "cpu_limit_millicores",
    "http_port",
    "grpc_port",
    "timeout_s",
    "retries",
    "connection_pool",
    "outlier_detection",
    "versions",
    "exposed",
    "calls",
    "degradation",
    "sidecar_resources",
    "payment_deadline_s",
}
# The gateway's endpoints that have a fallback under overload (services/miniapp_services/gateway).
DEGRADABLE = ("login", "product", "order_create")
# The gateway's breaker rule (services/miniapp_services/gateway/infrastructure.py: BreakerRuleIn).
BREAKER_STRATEGIES = ("error_ratio", "slow_ratio", "error_count")
BREAKER_KEYS = {"strategy", "threshold", "min_requests", "window_s", "stat_interval_s", "max_rt_ms"}
_STORE_KEYS = {"namespace", "clients", "memory_mib", "cpu_millicores", "max_memory_mib", "sidecar_resources"}
STORE_PORT = 6379


# Istio's default worker threads per sidecar (ProxyConfig.concurrency).
ISTIO_CONCURRENCY = 2


@dataclass(frozen=True)
class SidecarResources:
    """What a pod's istio-proxy (and Istio's istio-validation init container, which takes the same) requests
    and is limited at, rendered as the pod's sidecar.istio.io/proxy* annotations; without them Istio injects its
    global defaults (100m / 128Mi requested, 2 cores / 1 GiB limited), which the namespace's quota never allowed."""

    memory_mib: int = 64
    cpu_millicores: int = 25
    cpu_limit_millicores: int = 1000


class CatalogError(ValueError):
    """A catalog value that cannot be used; the message names the field and the fix."""


# Keys renamed when "tenant" came to mean a merchant (its mini-program); a catalog still using them is told the fix.
_RENAMED = {"tenants": "namespaces", "tenant": "namespace"}


def _no_renamed_keys(where: str, raw: dict[str, Any]) -> None:
    for old, new in _RENAMED.items():
        if old in raw:
            raise CatalogError(
                f"{where}.{old}: renamed {new} (a group of services; a tenant is a merchant); rename the key"
            )


@dataclass(frozen=True)
class Version:
    name: str
    weight: int


@dataclass(frozen=True)
class Service:
    name: str
    namespace: str
    tier: str
    replicas: int
    memory_mib: int
    cpu_millicores: int  # requested: what the service uses at the design's peak, with headroom
    cpu_limit_millicores: int  # its ceiling: bursts above the request are not throttled below this
    http_port: int
    grpc_port: int
    timeout_s: float
    retries: dict[str, Any]
    connection_pool: dict[str, Any]
    outlier_detection: dict[str, Any]
    versions: tuple[Version, ...]
    calls: tuple[str, ...] = field(default_factory=tuple)
    exposed: bool = False  # the ingress routes to it
    # Derived, never written: the ingress when exposed, then every service whose calls name this one.
    callers: tuple[str, ...] = ()
    degradation: dict[str, Any] = field(default_factory=dict[str, Any])
    sidecar_resources: SidecarResources = SidecarResources()
    # order only: an order unpaid this long after it was placed is cancelled, its stock released (None: never).
    payment_deadline_s: int | None = None

    def fqdn(self, suffix: str = "svc.cluster.local") -> str:
        return f"{self.name}.{self.namespace}.{suffix}"

    @property
    def canary(self) -> Version | None:
        """The version that tagged traffic (x-release-tag) goes to: the last one listed, when there are two or more."""
        return self.versions[-1] if len(self.versions) > 1 else None


@dataclass(frozen=True)
class Store:
    """A Redis for some services' state (the gateway's nonces), a workload of its own in the mesh."""

    name: str
    namespace: str
    clients: tuple[str, ...]
    memory_mib: int
    cpu_millicores: int
    max_memory_mib: int
    sidecar_resources: SidecarResources = SidecarResources()

    def fqdn(self, suffix: str = "svc.cluster.local") -> str:
        return f"{self.name}.{self.namespace}.{suffix}"

    @property
    def cpu_limit_millicores(self) -> int:
        """A store's CPU is requested and limited alike (Redis is single-threaded and steady)."""
        return self.cpu_millicores


def principal(trust_domain: str, namespace: str, account: str) -> str:
    """A workload's identity as an AuthorizationPolicy names it: its SPIFFE id without the scheme."""
    return f"{trust_domain}/ns/{namespace}/sa/{account}"


def spiffe_id(trust_domain: str, namespace: str, account: str) -> str:
    """The SPIFFE id a workload certificate carries and a peer verifies; the one place that builds one."""
    return "spiffe://" + principal(trust_domain, namespace, account)


@dataclass(frozen=True)
class Catalog:
    image: str
    trust_domain: str
    namespaces: tuple[str, ...]
    services: tuple[Service, ...]
    stores: tuple[Store, ...] = ()
    sidecar_concurrency: int = ISTIO_CONCURRENCY
    tracing: Tracing = field(default_factory=Tracing)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def spiffe(self, service: Service | Store) -> str:
        return spiffe_id(self.trust_domain, service.namespace, service.name)

    def stores_of(self, service: Service) -> tuple[Store, ...]:
        return tuple(s for s in self.stores if service.name in s.clients)


def _where(name: str, key: str) -> str:
    return f"services_catalog.services.{name}.{key}"


def _versions(name: str, raw: list[dict[str, Any]] | None) -> tuple[Version, ...]:
    if not raw:
        return (Version("v1", 100),)
    versions = tuple(Version(str(v["name"]), int(v["weight"])) for v in raw)
    if sum(v.weight for v in versions) != 100 or any(v.weight < 0 for v in versions):
        weights = [v.weight for v in versions]
        raise CatalogError(f"{_where(name, 'versions')}: weights {weights} must be 0 or more and add up to 100")
    if len({v.name for v in versions}) != len(versions):
        raise CatalogError(f"{_where(name, 'versions')}: version names must differ")
    return versions


def _degradation(name: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Per-endpoint rate limits of the gateway's rules file; the gateway checks the rest when it loads it."""
    rules = dict(raw or {})
    if rules and name != "gateway":
        raise CatalogError(f"{_where(name, 'degradation')}: only the gateway has degradation rules")
    for endpoint, rule in rules.items():
        if endpoint not in DEGRADABLE:
            raise CatalogError(f"{_where(name, 'degradation')}.{endpoint}: unknown endpoint; use {list(DEGRADABLE)}")
        if not isinstance(rule, dict) or not (isinstance(rule.get("qps"), int | float) and rule["qps"] > 0):
            raise CatalogError(f"{_where(name, 'degradation')}.{endpoint}.qps: set requests per second above 0")
        if not (isinstance(rule.get("burst"), int) and rule["burst"] >= 1):
            raise CatalogError(f"{_where(name, 'degradation')}.{endpoint}.burst: set a whole number of 1 or more")
        _breaker(f"{_where(name, 'degradation')}.{endpoint}.breaker", rule.get("breaker") or {})
    return rules


def _breaker(where: str, raw: dict[str, Any]) -> None:
    """A breaker as the gateway takes it (Sentinel's strategies); what is left out takes the gateway's default."""
    unknown = sorted(set(raw) - BREAKER_KEYS)
    if unknown:
        raise CatalogError(f"{where}: unknown {unknown}; use {sorted(BREAKER_KEYS)}")
    strategy = raw.get("strategy", "error_ratio")
    if strategy not in BREAKER_STRATEGIES:
        raise CatalogError(f"{where}.strategy: {strategy!r}; use one of {list(BREAKER_STRATEGIES)}")
    for key in ("threshold", "window_s", "stat_interval_s", "max_rt_ms", "min_requests"):
        if key in raw and not (isinstance(raw[key], int | float) and not isinstance(raw[key], bool) and raw[key] > 0):
            raise CatalogError(f"{where}.{key}: set a number above 0")
    if strategy != "error_count" and raw.get("threshold", 0.5) > 1:
        raise CatalogError(f"{where}.threshold: {strategy} takes a ratio in (0, 1]")
    if (strategy == "slow_ratio") != ("max_rt_ms" in raw):
        raise CatalogError(f"{where}.max_rt_ms: set it for slow_ratio (what counts as slow), and only for slow_ratio")


def _payment_deadline(name: str, raw: object) -> int | None:
    """The order service's deadline for payment, in seconds (a minute to a week), or None."""
    if raw is None:
        return None
    if name != "order":
        raise CatalogError(f"{_where(name, 'payment_deadline_s')}: only order places orders; remove it here")
    if not isinstance(raw, int) or isinstance(raw, bool) or not 60 <= raw <= 7 * 86_400:
        raise CatalogError(
            f"{_where(name, 'payment_deadline_s')}: {raw!r}; give whole seconds from 60 to 604800 (a week)"
        )
    return raw


def _sidecar_resources(where: str, base: SidecarResources, raw: object) -> SidecarResources:
    """base with what raw (a mapping of some of its fields) changes, checked."""
    if raw is None:
        return base
    keys = {"memory_mib", "cpu_millicores", "cpu_limit_millicores"}
    if not isinstance(raw, dict) or set(raw) - keys:
        raise CatalogError(f"{where}: {raw!r}; give a mapping of {sorted(keys)}")
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise CatalogError(f"{where}.{key}: {value!r}; use a whole number of 1 or more")
    budget = replace(base, **raw)
    _limit_not_below_request(where, budget.cpu_millicores, budget.cpu_limit_millicores)
    return budget


def _limit_not_below_request(where: str, request: int, limit: int) -> None:
    if limit < request:
        raise CatalogError(
            f"{where}.cpu_limit_millicores: {limit} is below cpu_millicores ({request}); a limit must be at least"
            " the request"
        )


def _service(
    name: str, raw: dict[str, Any], defaults: dict[str, Any], namespaces: tuple[str, ...], sidecar: SidecarResources
) -> Service:
    if "callers" in raw:
        raise CatalogError(
            f"{_where(name, 'callers')}: callers are derived, not written; list the edge once, in the caller's calls"
            " (and exposed: true where the ingress routes)"
        )
    _no_renamed_keys(f"services_catalog.services.{name}", raw)
    unknown = sorted(set(raw) - _SERVICE_KEYS)
    if unknown:
        raise CatalogError(f"{_where(name, unknown[0])}: unknown key; the keys are {sorted(_SERVICE_KEYS)}")
    merged = {**defaults, **raw}
    if merged.get("namespace") not in namespaces:
        raise CatalogError(
            f"{_where(name, 'namespace')}: {merged.get('namespace')!r} is not a namespace; use one of {list(namespaces)}"
        )
    if merged.get("tier") not in ("P0", "P1"):
        raise CatalogError(f"{_where(name, 'tier')}: {merged.get('tier')!r}; use P0 (probed every 500 ms) or P1")
    for key in ("replicas", "memory_mib", "cpu_millicores", "cpu_limit_millicores", "http_port", "grpc_port"):
        if not isinstance(merged.get(key), int) or merged[key] < 1:
            raise CatalogError(f"{_where(name, key)}: {merged.get(key)!r}; use a whole number of 1 or more")
    _limit_not_below_request(
        f"services_catalog.services.{name}", merged["cpu_millicores"], merged["cpu_limit_millicores"]
    )
    return Service(
        name=name,
        namespace=merged["namespace"],
        tier=merged["tier"],
        replicas=merged["replicas"],
        memory_mib=merged["memory_mib"],
        cpu_millicores=merged["cpu_millicores"],
        cpu_limit_millicores=merged["cpu_limit_millicores"],
        http_port=merged["http_port"],
        grpc_port=merged["grpc_port"],
        timeout_s=float(merged.get("timeout_s", 0)),
        retries=dict(merged.get("retries") or {}),
        connection_pool=dict(merged.get("connection_pool") or {}),
        outlier_detection=dict(merged.get("outlier_detection") or {}),
        versions=_versions(name, merged.get("versions")),
        calls=tuple(merged.get("calls") or ()),
        exposed=_flag(name, "exposed", merged.get("exposed", False)),
        degradation=_degradation(name, raw.get("degradation")),
        payment_deadline_s=_payment_deadline(name, raw.get("payment_deadline_s")),
        sidecar_resources=_sidecar_resources(
            _where(name, "sidecar_resources"), sidecar, merged.get("sidecar_resources")
        ),
    )


def _flag(name: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{_where(name, key)}: {value!r}; use true or false")
    return value


def _with_callers(services: dict[str, Service]) -> dict[str, Service]:
    """Every call names a service; each service's callers (what its authorization admits) follow from the calls,
    so an edge is written once and a removed call cannot leave a stale caller behind."""
    for svc in services.values():
        for callee in svc.calls:
            if callee not in services:
                raise CatalogError(f"{_where(svc.name, 'calls')}: {callee!r} is not a service in the catalog")
    return {
        name: replace(
            svc,
            callers=((EDGE_CALLER,) if svc.exposed else ())
            + tuple(s.name for s in services.values() if name in s.calls),
        )
        for name, svc in services.items()
    }


def _per_call(svc: Service) -> tuple[float, str]:
    """How long a caller's sidecar waits for one try of svc (0: no limit), and the field that says so."""
    if svc.retries.get("attempts", 0) and svc.retries.get("per_try_timeout_s"):
        return float(svc.retries["per_try_timeout_s"]), "retries.per_try_timeout_s"
    return svc.timeout_s, "timeout_s"


def _check_deadlines(services: dict[str, Service]) -> None:
    """A service's callers must wait at least as long as any service it calls may take, or their sidecars
    cut requests that its callees would still answer and its fallbacks never run (504s under load)."""
    for svc in services.values():
        waited, key = _per_call(svc)
        for callee in svc.calls:
            needed = services[callee].timeout_s
            if waited and (not needed or waited < needed):
                limit = f"{needed:g} s" if needed else "no limit"
                raise CatalogError(
                    f"{_where(svc.name, key)}: {waited:g} s is shorter than {_where(callee, 'timeout_s')} ({limit}),"
                    f" which {svc.name} calls; raise it to at least that, or shorten {callee}'s"
                )


def _store(
    name: str, raw: dict[str, Any], namespaces: tuple[str, ...], services: dict[str, Service], sidecar: SidecarResources
) -> Store:
    where = f"services_catalog.stores.{name}"
    _no_renamed_keys(where, raw)
    unknown = sorted(set(raw) - _STORE_KEYS)
    if unknown:
        raise CatalogError(f"{where}.{unknown[0]}: unknown key; the keys are {sorted(_STORE_KEYS)}")
    if name in services:
        raise CatalogError(f"{where}: a service is named {name!r} already; give the store another name")
    if raw.get("namespace") not in namespaces:
        raise CatalogError(
            f"{where}.namespace: {raw.get('namespace')!r} is not a namespace; use one of {list(namespaces)}"
        )
    clients = tuple(raw.get("clients") or ())
    if not clients or any(c not in services for c in clients):
        raise CatalogError(f"{where}.clients: {list(clients)}; list the services that use it (at least one)")
    for key in ("memory_mib", "cpu_millicores", "max_memory_mib"):
        if not isinstance(raw.get(key), int) or raw[key] < 1:
            raise CatalogError(f"{where}.{key}: {raw.get(key)!r}; use a whole number of 1 or more")
    if raw["max_memory_mib"] >= raw["memory_mib"]:
        raise CatalogError(
            f"{where}.max_memory_mib: {raw['max_memory_mib']} must stay below memory_mib ({raw['memory_mib']}): "
            "Redis refuses writes at max_memory_mib, the kernel kills it at memory_mib"
        )
    resources = _sidecar_resources(f"{where}.sidecar_resources", sidecar, raw.get("sidecar_resources"))
    return Store(
        name, raw["namespace"], clients, raw["memory_mib"], raw["cpu_millicores"], raw["max_memory_mib"], resources
    )


def load(raw: dict[str, Any]) -> Catalog:
    """Check the raw catalog (services_catalog) and fill in defaults."""
    _no_renamed_keys("services_catalog", raw)
    _no_renamed_keys("services_catalog.defaults", raw.get("defaults") or {})
    namespaces = tuple(sorted((raw.get("namespaces") or {}).keys()))
    if not namespaces:
        raise CatalogError("services_catalog.namespaces: list at least one namespace (name -> description)")
    defaults = dict(raw.get("defaults") or {})
    sidecar = _sidecar_resources("services_catalog.sidecar_resources", SidecarResources(), raw.get("sidecar_resources"))
    services = {
        name: _service(name, spec or {}, defaults, namespaces, sidecar)
        for name, spec in (raw.get("services") or {}).items()
    }
    if not services:
        raise CatalogError("services_catalog.services: list at least one service")
    services = _with_callers(services)
    _check_deadlines(services)
    stores = tuple(
        _store(name, spec or {}, namespaces, services, sidecar) for name, spec in (raw.get("stores") or {}).items()
    )
    if "gateway" in services and not any(s.name == "nonces" and "gateway" in s.clients for s in stores):
        raise CatalogError(
            "services_catalog.stores.nonces: the gateway's replay guard is missing; add a store nonces with"
            " clients: [gateway]"
        )
    return Catalog(
        str(raw.get("image", "miniapp-services")),
        str(raw.get("trust_domain", "cluster.local")),
        namespaces,
        tuple(services.values()),
        stores,
        _concurrency(raw.get("sidecar_concurrency", ISTIO_CONCURRENCY)),
        _tracing(raw.get("tracing")),
    )


def _concurrency(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16:
        raise CatalogError(
            f"services_catalog.sidecar_concurrency: {value!r} is not a count of worker threads; give 1 to 16"
        )
    return value


def _tracing(raw: object) -> Tracing:
    try:
        return load_tracing(raw)
    except TracingError as err:
        raise CatalogError(str(err)) from None
