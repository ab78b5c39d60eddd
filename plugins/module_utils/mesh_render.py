# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Kubernetes and Istio objects for the catalog's services: pure functions from a Catalog to manifests.

The same list is applied to a real cluster (kubernetes.core) and compiled into Envoy sidecars in the lab.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import mesh_catalog
from .kube_objects import manifest, metadata
from .mesh_catalog import EDGE_CALLER, STORE_PORT, Catalog, Service, SidecarResources, Store, Version
from .mesh_tracing import egress

RELEASE_TAG = "x-release-tag"
# The ingress's own identity: the NGINX Ingress Controller's service account (roles/ingress), in the mesh.
EDGE_NAMESPACE, EDGE_ACCOUNT, EDGE_APP = "nginx-ingress", "nginx-ingress", "nginx-ingress"
# So that circuit-breaker, outlier and per-version request stats reach Prometheus (Istio drops them by
# default): cluster.outbound for breakers and ejections, cluster.inbound for the dashboards' requests,
# errors and latency per version.
STATS_INCLUSION = "cluster.outbound,cluster.inbound,cluster_manager,listener_manager,server,http.inbound"
RUN_AS = 10001
# Per-pod ProxyConfig (JSON is YAML): the sidecar's worker threads.
PROXY_CONFIG = "proxy.istio.io/config"
# Where a service's pod has the database's CA (its database Secret's ca.crt); roles/services names it in the URL.
# Not under the gateway's /etc/miniapp: a mount point cannot be made inside a read-only volume.
DATABASE_CA = "/etc/miniapp-database/ca.crt"
# Where the gateway has its tenants' keys (roles/services' Secret gateway-tenants); a projected Secret changes
# in place when the tenant list does, and the gateway re-reads it.
TENANTS_FILE = "/etc/miniapp-tenants/tenants.json"
TENANTS_KEYS_OBJECT = "gateway-tenants"  # the Secret's name
# Where the gateway has its way to the config centre (roles/services' Secret gateway-config-centre: the etcd
# members' URLs, the etcd CA, and the gateway's client certificate from the etcd role's PKI).
CONFIG_CENTRE_DIR = "/etc/miniapp-config-centre"
CONFIG_CENTRE_OBJECT = "gateway-config-centre"
CONFIG_CENTRE_FILES = ("ca.crt", "tls.crt", "tls.key")
# Istio's per-pod sidecar resources; its injector gives istio-validation (istio-cni) the same.
PROXY_CPU, PROXY_CPU_LIMIT = "sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyCPULimit"
PROXY_MEMORY, PROXY_MEMORY_LIMIT = "sidecar.istio.io/proxyMemory", "sidecar.istio.io/proxyMemoryLimit"
# The services' plain /metrics port: excluded from interception so Prometheus needs no mesh identity.
METRICS_PORT = 9091
# The gateway's degradation rules (a ConfigMap; JSON is YAML), reloaded by the gateway when it changes.
RULES_FILE = "/etc/miniapp/rules.json"
# The stores' Redis runs as this user of its image (lab/images/redis).
STORE_RUN_AS = 10002


@dataclass(frozen=True)
class Outside:
    """Hosts outside the cluster that pods reach on one TCP port (the site's database, its etcd), as their URLs
    name them. Each pod's TLS to them is its own (verify-full, client certificates): the sidecar passes it through."""

    hosts: tuple[str, ...]
    port: int


@dataclass(frozen=True)
class RenderOptions:
    image: str  # registry/repository:tag of the services image
    store_image: str  # registry/repository:tag of the stores' Redis image
    injection_labels: tuple[tuple[str, str], ...] = (("istio-injection", "enabled"),)
    database: Outside | None = None  # every service's database
    config_centre: Outside | None = None  # the site's etcd, for the tenants' configuration (the gateway's Secret)
    traces_endpoint: str = ""  # the site's OTLP/HTTP traces URL (Tempo's); empty, spans are not exported


def pods_of(svc: Service) -> dict[str, int]:
    """Replicas per version: the stable (first) version gets the service's replicas, canaries one each."""
    return {v.name: (svc.replicas if i == 0 else 1) for i, v in enumerate(svc.versions)}


def principal(catalog: Catalog, caller: str) -> str:
    """Istio's principal (the SPIFFE URI without its scheme) of a caller named in the catalog."""
    if caller == EDGE_CALLER:
        return mesh_catalog.principal(catalog.trust_domain, EDGE_NAMESPACE, EDGE_ACCOUNT)
    service = catalog.service(caller)
    return mesh_catalog.principal(catalog.trust_domain, service.namespace, service.name)


def namespace_objects(catalog: Catalog, namespace: str, options: RenderOptions) -> list[dict[str, Any]]:
    """Namespace, quota and limits derived from the budgets of the namespace's services, and STRICT mTLS."""
    services = [s for s in catalog.services if s.namespace == namespace]
    stores = [s for s in catalog.stores if s.namespace == namespace]
    # Quota leaves room for one surge pod per Deployment during a rolling update; each pod is its app and its
    # sidecar (istio-validation, an init container of the sidecar's size, never adds to a pod's effective request).
    pods = [(s, n + 1) for s in services for n in pods_of(s).values()] + [(s, 2) for s in stores]
    memory = sum((s.memory_mib + s.sidecar_resources.memory_mib) * n for s, n in pods)
    cpu = sum((s.cpu_millicores + s.sidecar_resources.cpu_millicores) * n for s, n in pods)
    cpu_limits = sum((s.cpu_limit_millicores + s.sidecar_resources.cpu_limit_millicores) * n for s, n in pods)
    hard = {
        "pods": str(sum(n for _, n in pods)),
        "requests.memory": f"{memory}Mi",
        "limits.memory": f"{memory}Mi",
        "requests.cpu": f"{cpu}m",
        "limits.cpu": f"{cpu_limits}m",
    }
    containers = [(s.memory_mib, s.cpu_millicores, s.cpu_limit_millicores) for s, _ in pods] + [
        (r.memory_mib, r.cpu_millicores, r.cpu_limit_millicores) for r in (s.sidecar_resources for s, _ in pods)
    ]
    memory_max = max(m for m, _, _ in containers)
    request_max, cpu_max = max(c for _, c, _ in containers), max(c for _, _, c in containers)
    limit = {
        "type": "Container",
        "max": {"memory": f"{memory_max}Mi", "cpu": f"{cpu_max}m"},
        "default": {"memory": f"{memory_max}Mi", "cpu": f"{cpu_max}m"},
        "defaultRequest": {"memory": f"{memory_max}Mi", "cpu": f"{request_max}m"},
    }
    return [
        manifest("v1", "Namespace", metadata(namespace, labels=dict(options.injection_labels))),
        manifest("v1", "ResourceQuota", metadata("budget", namespace), spec={"hard": hard}),
        manifest("v1", "LimitRange", metadata("budget", namespace), spec={"limits": [limit]}),
        manifest(
            "security.istio.io/v1",
            "PeerAuthentication",
            metadata("default", namespace),
            spec={"mtls": {"mode": "STRICT"}},
        ),
    ]


def _env(catalog: Catalog, svc: Service, version: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "MINIAPP_SERVICE", "value": svc.name},
        {"name": "MINIAPP_VERSION", "value": version},
        {"name": "MINIAPP_HTTP_PORT", "value": str(svc.http_port)},
        {"name": "MINIAPP_GRPC_PORT", "value": str(svc.grpc_port)},
        {"name": "MINIAPP_METRICS_PORT", "value": str(METRICS_PORT)},
        {"name": "MINIAPP_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": f"{svc.name}-db", "key": "url"}}},
    ]
    callees = [catalog.service(c) for c in svc.calls]
    for callee in callees:
        upper = callee.name.upper()
        env.append({"name": f"MINIAPP_DEPENDENCIES__{upper}", "value": f"{callee.fqdn()}:{callee.grpc_port}"})
        env.append({"name": f"MINIAPP_UPSTREAMS__{upper}", "value": f"http://{callee.fqdn()}:{callee.http_port}"})
    # The app waits for a callee as long as the callee's route does, so the sidecar's retries finish first.
    waits = [callee.timeout_s for callee in callees]
    if waits and all(waits):
        env.append({"name": "MINIAPP_HTTP_TIMEOUT_S", "value": f"{max(waits):g}"})
    if svc.name == "gateway":
        env.append({"name": "MINIAPP_TENANTS_FILE", "value": TENANTS_FILE})
    if svc.payment_deadline_s is not None:
        env.append({"name": "MINIAPP_PAYMENT_DEADLINE_S", "value": str(svc.payment_deadline_s)})
    for store in catalog.stores_of(svc):
        ref = {"secretKeyRef": {"name": store.name, "key": "url"}}
        env.append({"name": f"MINIAPP_STORES__{store.name.upper()}", "valueFrom": ref})
    return env


def _container(catalog: Catalog, svc: Service, version: str, options: RenderOptions) -> dict[str, Any]:
    requests = {"memory": f"{svc.memory_mib}Mi", "cpu": f"{svc.cpu_millicores}m"}
    limits = {"memory": f"{svc.memory_mib}Mi", "cpu": f"{svc.cpu_limit_millicores}m"}

    def probe(path: str, period: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": period,
            "timeoutSeconds": 1,
        }

    return {
        "name": "app",
        "image": options.image,
        "args": ["serve"],
        "env": _env(catalog, svc, version) + catalog.tracing.env(options.traces_endpoint),
        "ports": [
            {"name": "http", "containerPort": svc.http_port},
            {"name": "grpc", "containerPort": svc.grpc_port},
            {"name": "http-metrics", "containerPort": METRICS_PORT},
        ],
        "resources": {"requests": requests, "limits": limits},
        "livenessProbe": probe("/healthz", 10),
        "readinessProbe": probe("/readyz", 5 if svc.tier == "P0" else 10),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def deployment(catalog: Catalog, svc: Service, version: str, replicas: int, options: RenderOptions) -> dict[str, Any]:
    labels = {"app": svc.name, "version": version}
    app = _container(catalog, svc, version, options)
    # The database's CA from the service's database Secret, for its URL's sslrootcert (verify-full).
    mounts = [{"name": "database-ca", "mountPath": DATABASE_CA.rsplit("/", 1)[0], "readOnly": True}]
    items = [{"key": "ca.crt", "path": DATABASE_CA.rsplit("/", 1)[1]}]
    volumes: list[dict[str, Any]] = [
        {"name": "database-ca", "secret": {"secretName": f"{svc.name}-db", "items": items}}
    ]
    migrate = {
        **{k: app[k] for k in ("image", "env", "resources", "securityContext")},
        "name": "migrate",
        "args": ["migrate"],
        "volumeMounts": list(mounts),
    }
    if svc.degradation:
        rules_dir = RULES_FILE.rsplit("/", 1)[0]
        app["env"] = [*app["env"], {"name": "MINIAPP_RULES_FILE", "value": RULES_FILE}]
        mounts.append({"name": "degradation", "mountPath": rules_dir, "readOnly": True})
        volumes.append({"name": "degradation", "configMap": {"name": f"{svc.name}-degradation"}})
    if svc.name == "gateway":
        env, gateway_mounts, gateway_volumes = _gateway_files(options)
        app["env"] = [*app["env"], *env]
        mounts += gateway_mounts
        volumes += gateway_volumes
    app["volumeMounts"] = mounts
    pod = {
        "serviceAccountName": svc.name,
        "terminationGracePeriodSeconds": 30,
        "initContainers": [migrate],
        "containers": [app],
        "volumes": volumes,
    }
    annotations = {
        **proxy_config(catalog, svc.sidecar_resources),
        "sidecar.istio.io/statsInclusionPrefixes": STATS_INCLUSION,
        "traffic.sidecar.istio.io/excludeInboundPorts": str(METRICS_PORT),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "prometheus.io/path": "/metrics",
    }
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod},
    }
    return manifest("apps/v1", "Deployment", metadata(f"{svc.name}-{version}", svc.namespace, labels), spec=spec)


def _gateway_files(options: RenderOptions) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The gateway app's env, mounts and volumes for its tenants' keys and, at a site with one, its config centre
    (its migrations need neither)."""
    directory, name = TENANTS_FILE.rsplit("/", 1)
    env: list[dict[str, Any]] = []
    mounts = [{"name": "tenants", "mountPath": directory, "readOnly": True}]
    volumes: list[dict[str, Any]] = [
        {"name": "tenants", "secret": {"secretName": TENANTS_KEYS_OBJECT, "items": [{"key": name, "path": name}]}}
    ]
    if options.config_centre is not None:
        endpoints = {"secretKeyRef": {"name": CONFIG_CENTRE_OBJECT, "key": "endpoints"}}
        env += [
            {"name": "MINIAPP_CONFIG_ENDPOINTS", "valueFrom": endpoints},
            {"name": "MINIAPP_CONFIG_TLS_DIR", "value": CONFIG_CENTRE_DIR},
        ]
        mounts.append({"name": "config-centre", "mountPath": CONFIG_CENTRE_DIR, "readOnly": True})
        items = [{"key": f, "path": f} for f in CONFIG_CENTRE_FILES]
        volumes.append({"name": "config-centre", "secret": {"secretName": CONFIG_CENTRE_OBJECT, "items": items}})
    return env, mounts, volumes


def proxy_config(catalog: Catalog, resources: SidecarResources) -> dict[str, str]:
    """The pod's sidecar settings as Istio reads them: ProxyConfig and the proxy's resources, in annotations."""
    return {
        PROXY_CONFIG: json.dumps({"concurrency": catalog.sidecar_concurrency}),
        PROXY_CPU: f"{resources.cpu_millicores}m",
        PROXY_CPU_LIMIT: f"{resources.cpu_limit_millicores}m",
        PROXY_MEMORY: f"{resources.memory_mib}Mi",
        PROXY_MEMORY_LIMIT: f"{resources.memory_mib}Mi",
    }


def _seconds(value: float) -> str:
    return f"{value:g}s"


def traffic_policy(svc: Service) -> dict[str, Any]:
    """connectionPool and outlierDetection from the catalog (only what it sets; Istio's defaults stay)."""
    pool, outlier = svc.connection_pool, svc.outlier_detection
    policy: dict[str, Any] = {}
    tcp = {"maxConnections": pool["max_connections"]} if "max_connections" in pool else {}
    http = {
        camel: pool[key]
        for key, camel in (
            ("http1_max_pending_requests", "http1MaxPendingRequests"),
            ("http2_max_requests", "http2MaxRequests"),
            ("max_requests_per_connection", "maxRequestsPerConnection"),
        )
        if key in pool
    }
    if tcp or http:
        policy["connectionPool"] = {**({"tcp": tcp} if tcp else {}), **({"http": http} if http else {})}
    if outlier:
        od: dict[str, Any] = {}
        if "consecutive_5xx_errors" in outlier:
            od["consecutive5xxErrors"] = outlier["consecutive_5xx_errors"]
        for key, camel in (("interval_s", "interval"), ("base_ejection_time_s", "baseEjectionTime")):
            if key in outlier:
                od[camel] = _seconds(outlier[key])
        if "max_ejection_percent" in outlier:
            od["maxEjectionPercent"] = outlier["max_ejection_percent"]
        policy["outlierDetection"] = od
    return policy


def destination_rule(svc: Service) -> dict[str, Any]:
    subsets = [{"name": v.name, "labels": {"version": v.name}} for v in svc.versions]
    spec = {"host": svc.fqdn(), "trafficPolicy": traffic_policy(svc), "subsets": subsets}
    return manifest("networking.istio.io/v1", "DestinationRule", metadata(svc.name, svc.namespace), spec=spec)


def _route(svc: Service, destinations: list[dict[str, Any]], name: str) -> dict[str, Any]:
    route: dict[str, Any] = {"name": name, "route": destinations}
    if svc.timeout_s:
        route["timeout"] = _seconds(svc.timeout_s)
    if svc.retries:
        route["retries"] = {"attempts": svc.retries.get("attempts", 2)}
        if "per_try_timeout_s" in svc.retries:
            route["retries"]["perTryTimeout"] = _seconds(svc.retries["per_try_timeout_s"])
    return route


def virtual_service(svc: Service) -> dict[str, Any]:
    """The canary by release tag first, then the weighted split; weight-0 versions get no traffic."""

    def dest(version: Version) -> dict[str, Any]:
        return {"host": svc.fqdn(), "subset": version.name}

    http = []
    if svc.canary is not None:
        tagged = _route(svc, [{"destination": dest(svc.canary)}], "release-tag")
        tagged["match"] = [{"headers": {RELEASE_TAG: {"exact": svc.canary.name}}}]
        http.append(tagged)
    weighted = [{"destination": dest(v), "weight": v.weight} for v in svc.versions if v.weight > 0]
    http.append(_route(svc, weighted, "weighted"))
    return manifest(
        "networking.istio.io/v1",
        "VirtualService",
        metadata(svc.name, svc.namespace),
        spec={"hosts": [svc.fqdn()], "http": http},
    )


def authorization_policy(catalog: Catalog, svc: Service) -> dict[str, Any]:
    """ALLOW only the catalog's callers; with none, the empty rule list denies every request."""
    rules = (
        [{"from": [{"source": {"principals": [principal(catalog, c) for c in svc.callers]}}]}] if svc.callers else []
    )
    spec = {"selector": {"matchLabels": {"app": svc.name}}, "action": "ALLOW", "rules": rules}
    return manifest("security.istio.io/v1", "AuthorizationPolicy", metadata(svc.name, svc.namespace), spec=spec)


def outside_of(svc: Service | Store, options: RenderOptions) -> dict[str, Outside]:
    """The hosts outside the cluster this workload reaches, by ServiceEntry name: every service its database, the
    gateway its config centre."""
    if not isinstance(svc, Service):
        return {}
    found = {"database": options.database}
    if svc.name == "gateway":
        found["config-centre"] = options.config_centre
    return {name: outside for name, outside in found.items() if outside is not None and outside.hosts}


def service_entry(name: str, namespace: str, outside: Outside) -> dict[str, Any]:
    """Hosts outside the mesh, so REGISTRY_ONLY egress lets this namespace's pods reach them: passed through to the
    address the pod connected to (resolution NONE: a multi-host URL picks its host itself), seen by this namespace
    only, and by the workloads whose Sidecar lists them."""
    spec = {
        "hosts": list(outside.hosts),
        "location": "MESH_EXTERNAL",
        "resolution": "NONE",
        "ports": [{"number": outside.port, "name": f"tcp-{name}", "protocol": "TCP"}],
        "exportTo": ["."],
    }
    return manifest("networking.istio.io/v1", "ServiceEntry", metadata(name, namespace), spec=spec)


def sidecar(catalog: Catalog, svc: Service | Store, options: RenderOptions) -> dict[str, Any]:
    """Egress limited to the services this one calls, the stores it uses and the hosts outside it reaches, and
    nothing outside the registry."""
    reached = [catalog.service(c) for c in svc.calls] + list(catalog.stores_of(svc)) if isinstance(svc, Service) else []
    hosts = [f"{x.namespace}/{x.fqdn()}" for x in reached] + ["istio-system/*"]
    hosts += [f"./{host}" for outside in outside_of(svc, options).values() for host in outside.hosts]
    hosts += egress(options.traces_endpoint) if isinstance(svc, Service) else []
    spec = {
        "workloadSelector": {"labels": {"app": svc.name}},
        "egress": [{"hosts": hosts}],
        "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
    }
    return manifest("networking.istio.io/v1", "Sidecar", metadata(svc.name, svc.namespace), spec=spec)


def service_objects(catalog: Catalog, svc: Service, options: RenderOptions) -> list[dict[str, Any]]:
    ports = [
        {"name": "http", "port": svc.http_port, "targetPort": "http", "appProtocol": "http"},
        {"name": "grpc", "port": svc.grpc_port, "targetPort": "grpc", "appProtocol": "grpc"},
    ]
    objects = [
        manifest("v1", "ServiceAccount", metadata(svc.name, svc.namespace)),
        manifest(
            "v1",
            "Service",
            metadata(svc.name, svc.namespace, {"app": svc.name}),
            spec={"selector": {"app": svc.name}, "ports": ports},
        ),
        manifest(
            "policy/v1",
            "PodDisruptionBudget",
            metadata(svc.name, svc.namespace),
            spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app": svc.name}}},
        ),
    ]
    if svc.degradation:
        rules = {RULES_FILE.rsplit("/", 1)[1]: json.dumps({"endpoints": svc.degradation}, indent=2, sort_keys=True)}
        objects.append(manifest("v1", "ConfigMap", metadata(f"{svc.name}-degradation", svc.namespace), data=rules))
    objects += [deployment(catalog, svc, v, n, options) for v, n in pods_of(svc).items()]
    return [
        *objects,
        destination_rule(svc),
        virtual_service(svc),
        authorization_policy(catalog, svc),
        sidecar(catalog, svc, options),
    ]


def _store_config(store: Store) -> str:
    """redis.conf: memory only, and never evicting: a forgotten nonce could be replayed, so when full the
    store refuses writes (its clients fail closed). The password comes from the store's Secret."""
    return "\n".join(
        (
            "bind 0.0.0.0",
            f"port {STORE_PORT}",
            'save ""',
            "appendonly no",
            "dir /data",
            f"maxmemory {store.max_memory_mib}mb",
            "maxmemory-policy noeviction",
            "include /etc/redis/auth/auth.conf",
            "",
        )
    )


def _store_container(store: Store, options: RenderOptions) -> dict[str, Any]:
    budget = {"memory": f"{store.memory_mib}Mi", "cpu": f"{store.cpu_millicores}m"}
    probe = {"tcpSocket": {"port": "redis"}, "timeoutSeconds": 1}
    mounts = [("config", "/etc/redis/conf", True), ("auth", "/etc/redis/auth", True), ("data", "/data", False)]
    return {
        "name": "redis",
        "image": options.store_image,
        "args": ["/etc/redis/conf/redis.conf"],
        "ports": [{"name": "redis", "containerPort": STORE_PORT}],
        "resources": {"requests": budget, "limits": budget},
        "livenessProbe": {**probe, "periodSeconds": 10},
        "readinessProbe": {**probe, "periodSeconds": 5},
        "volumeMounts": [{"name": n, "mountPath": p, "readOnly": ro} for n, p, ro in mounts],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": STORE_RUN_AS,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def store_objects(catalog: Catalog, store: Store, options: RenderOptions) -> list[dict[str, Any]]:
    """A store's Redis: its identity, a TCP Service, its configuration, one pod, and only its clients admitted.
    Its password is a Secret made per install (roles/services), mounted as auth.conf."""
    labels = {"app": store.name, "version": "v1"}
    volumes = [
        {"name": "config", "configMap": {"name": f"{store.name}-redis"}},
        {"name": "auth", "secret": {"secretName": store.name, "items": [{"key": "auth.conf", "path": "auth.conf"}]}},
        {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
    ]
    pod = {"serviceAccountName": store.name, "containers": [_store_container(store, options)], "volumes": volumes}
    spec = {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "strategy": {"type": "Recreate"},  # one Redis at a time: its clients follow the Service
        "template": {
            "metadata": {"labels": labels, "annotations": proxy_config(catalog, store.sidecar_resources)},
            "spec": pod,
        },
    }
    port = {"name": "tcp-redis", "port": STORE_PORT, "targetPort": "redis", "appProtocol": "tcp"}
    rules = [{"from": [{"source": {"principals": [principal(catalog, c) for c in store.clients]}}]}]
    policy = {"selector": {"matchLabels": {"app": store.name}}, "action": "ALLOW", "rules": rules}
    return [
        manifest("v1", "ServiceAccount", metadata(store.name, store.namespace)),
        manifest(
            "v1",
            "Service",
            metadata(store.name, store.namespace, {"app": store.name}),
            spec={"selector": {"app": store.name}, "ports": [port]},
        ),
        manifest(
            "v1",
            "ConfigMap",
            metadata(f"{store.name}-redis", store.namespace),
            data={"redis.conf": _store_config(store)},
        ),
        manifest("apps/v1", "Deployment", metadata(store.name, store.namespace, labels), spec=spec),
        manifest("security.istio.io/v1", "AuthorizationPolicy", metadata(store.name, store.namespace), spec=policy),
        sidecar(catalog, store, options),
    ]


def render(catalog: Catalog, options: RenderOptions) -> list[dict[str, Any]]:
    """Every object, namespaces first so namespaces exist before what goes in them; stores before the services
    that use them."""
    objects = [obj for namespace in catalog.namespaces for obj in namespace_objects(catalog, namespace, options)]
    outside = {(s.namespace, name): o for s in catalog.services for name, o in outside_of(s, options).items()}
    objects += [service_entry(name, namespace, o) for (namespace, name), o in outside.items()]
    objects += [obj for store in catalog.stores for obj in store_objects(catalog, store, options)]
    return objects + [obj for svc in catalog.services for obj in service_objects(catalog, svc, options)]
