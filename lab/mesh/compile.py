"""One sidecar's Envoy bootstrap from the checked objects, indexed once (lab/mesh/objects.py), and the lab's pods.

The lab's stand-ins for what istiod knows: pods (address, labels, service account) make each outbound
cluster's endpoints, read from a file the kubelet stand-in rewrites as readiness changes (lab/mesh/endpoints.py),
and the Sidecar object's egress hosts decide which clusters and virtual hosts a sidecar gets.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from ansible_collections.miniapp.mesh.plugins.module_utils import istio_models
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_catalog import ISTIO_CONCURRENCY, principal, spiffe_id
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import (
    EDGE_ACCOUNT,
    EDGE_APP,
    EDGE_NAMESPACE,
    PROXY_CONFIG,
    STATS_INCLUSION,
)
from lab.mesh import listeners
from lab.mesh.clusters import TlsFiles, cluster, cluster_name, subset_policy, upstream_tls
from lab.mesh.endpoints import EndpointFiles, EndpointSet, Member
from lab.mesh.objects import MeshService, Objects, Port, index
from lab.mesh.routes import block_all, default_route, domains, routes

ADMIN_PORT = 15000
STATS_PORT = 15090
HEALTH_PORT = 15021
APP_HEALTH_PORT = 15020
APP_HEALTH = "app_health"
PROBES = {"livez": "livenessProbe", "readyz": "readinessProbe"}
# Istio's bootstrap stats tags, so that the lab's Envoy names its Prometheus series as Istio's sidecars do
# (cluster_name, response_code, response_code_class) and one set of queries serves both.
STATS_CONFIG = {
    "use_all_default_tags": False,
    "stats_tags": [
        {"tag_name": "cluster_name", "regex": r"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)"},
        {"tag_name": "response_code", "regex": r"_rq(_(\d{3}))$"},
        {"tag_name": "response_code_class", "regex": r"_rq(_(\dxx))$"},
    ],
}
# Istio's bootstrap keeps only these stats (its inclusion list), plus the mesh's proxyStatsMatcher and a
# pod's sidecar.istio.io/statsInclusionPrefixes: every other stat is never created, so neither updated
# per request nor scraped.
ISTIO_STATS_PREFIXES = ("reporter=", "cluster_manager", "listener_manager", "server", "cluster.xds-grpc", "wasm")
ISTIO_STATS_SUFFIXES = ("rbac.allowed", "rbac.denied", "shadow_allowed", "shadow_denied")
STATS_ANNOTATION = "sidecar.istio.io/statsInclusionPrefixes"
# The app's HTTP and gRPC calls leave through this address: those services' names resolve to it inside the
# pod, and the sidecar routes by host. A TCP service cannot be routed by name: each gets an address of its
# own from objects.TCP_IPS (the lab's stand-in for its cluster IP), where the sidecar listens for it alone.
OUTBOUND_IP = "127.0.0.2"
# Where every sidecar reads its outbound clusters' endpoints (lab/mesh/endpoints.py; lab.mesh.up mounts them).
ENDPOINT_FILES = EndpointFiles("/etc/mesh-endpoints")


class Pod(BaseModel):
    """A pod as the compiler needs it: its identity and its address (the lab state extends it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    namespace: str
    app: str
    version: str
    account: str
    ip: str


def _subsets(service: MeshService, pods: list[Pod]) -> list[tuple[Port, str, dict[str, Any], list[Pod]]]:
    """Per port and subset (the unnamed one first): its traffic policy and the pods it selects."""
    top = (service.rule or {}).get("trafficPolicy", {})
    subsets = [("", top, None)] + [
        (s["name"], subset_policy(top, s.get("trafficPolicy")), s["labels"].get("version"))
        for s in (service.rule or {}).get("subsets", [])
    ]
    selected = [p for p in pods if p.app == service.app and p.namespace == service.namespace]
    return [
        (port, subset, policy, [p for p in selected if version in (None, p.version)])
        for port in service.ports
        for subset, policy, version in subsets
    ]


def _outbound_clusters(
    service: MeshService, pods: list[Pod], tls: TlsFiles, trust_domain: str, files: EndpointFiles
) -> list[dict[str, Any]]:
    out = []
    for port, subset, policy, members in _subsets(service, pods):
        name = cluster_name("outbound", port.number, subset, service.fqdn)
        sni = f"outbound_.{port.number}_.{subset}_.{service.fqdn}"
        sans = sorted({spiffe_id(trust_domain, p.namespace, p.account) for p in members})
        out.append(cluster(name, policy, files, port.http2, upstream_tls(tls, sni, sans), tcp=port.tcp))
    return out


def endpoint_sets(objects: Objects, pods: list[Pod]) -> tuple[EndpointSet, ...]:
    """Every outbound cluster of the mesh with the pods it selects: what the endpoint files are written from."""
    return tuple(
        EndpointSet(
            cluster=cluster_name("outbound", port.number, subset, service.fqdn),
            members=tuple(Member(pod=p.name, ip=p.ip, port=port.number) for p in members),
        )
        for service in objects.services.values()
        for port, subset, _, members in _subsets(service, pods)
    )


def _outbound(
    objects: Objects, pods: list[Pod], hosts: set[str], tls: TlsFiles, trust_domain: str, files: EndpointFiles
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Clusters and outbound listeners for these hosts, plus REGISTRY_ONLY's block_all."""
    clusters: list[dict[str, Any]] = []
    vhosts: dict[int, list[dict[str, Any]]] = {}
    tcp: list[dict[str, Any]] = []
    for host in sorted(hosts):
        service = objects.services[host]
        clusters += _outbound_clusters(service, pods, tls, trust_domain, files)
        for port in service.ports:
            if port.tcp:
                name = cluster_name("outbound", port.number, "", host)
                tcp.append(listeners.tcp_outbound(objects.tcp[host], port.number, name))
                continue
            found = routes(service.routes, port.number) if service.routes else [default_route(host, port.number)]
            vhosts.setdefault(port.number, []).append(
                {"name": f"{host}:{port.number}", "domains": domains(host, port.number), "routes": found}
            )
    return clusters, [
        listeners.outbound(OUTBOUND_IP, number, [*hosts_, block_all()]) for number, hosts_ in sorted(vhosts.items())
    ] + tcp


def _inbound(
    objects: Objects, pod: Pod, tls: TlsFiles, trust_domain: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per port of the pod's Service: a STRICT listener on the pod address in front of the app on loopback.
    Of the traffic policy only connectionPool applies inbound, as in Istio."""
    own = objects.service_of(pod.namespace, pod.app)
    top = (own.rule or {}).get("trafficPolicy", {})
    policy = {"connectionPool": top["connectionPool"]} if "connectionPool" in top else {}
    clusters, listeners_, allowed = [], [], objects.principals(pod.namespace, pod.app)
    for port in own.ports:
        name = cluster_name("inbound", port.number, "", "")
        clusters.append(cluster(name, policy, [("127.0.0.1", port.number)], port.http2, tcp=port.tcp))
        listeners_.append(listeners.inbound(pod.ip, port.number, name, tls, trust_domain, allowed, tcp=port.tcp))
    return clusters, listeners_


def stats_config(annotations: dict[str, str]) -> dict[str, Any]:
    """Istio's stats tags and inclusion list, with the mesh's and the pod's inclusion prefixes."""
    prefixes = [*ISTIO_STATS_PREFIXES, *STATS_INCLUSION.split(",")]
    prefixes += [p for p in annotations.get(STATS_ANNOTATION, "").split(",") if p and p not in prefixes]
    # Envoy's health check filter reads a checked cluster's membership from its stats (a stat never created reads
    # 0: unhealthy), so the stats of the clusters that answer rewritten tcpSocket probes are kept.
    prefixes.append(f"cluster.{APP_HEALTH}_tcp|")
    patterns = [{"prefix": p} for p in prefixes] + [{"suffix": s} for s in ISTIO_STATS_SUFFIXES]
    return {**STATS_CONFIG, "stats_matcher": {"inclusion_list": {"patterns": patterns}}}


def concurrency(objects: Objects, pod: Pod) -> int:
    """The sidecar's worker threads from the pod's ProxyConfig annotation, else Istio's default."""
    raw = objects.workload(pod.namespace, pod.app, pod.version).annotations.get(PROXY_CONFIG)
    return int(json.loads(raw).get("concurrency", ISTIO_CONCURRENCY)) if raw else ISTIO_CONCURRENCY


def _bootstrap(
    node: str, app: str, listeners_: list[dict[str, Any]], clusters: list[dict[str, Any]], stats: dict[str, Any]
) -> dict[str, Any]:
    """Admin on the pod's loopback only, as Istio binds it (from any other address, /quitquitquit or
    /healthcheck/fail would take the sidecar down); its stats on 15090 and its readiness on 15021, as Istio
    serves them; Istio's stats tags; and the given listeners and clusters."""
    admin = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}}
    to_admin = cluster("prometheus_stats", {}, [("127.0.0.1", ADMIN_PORT)], http2=False)
    local = [listeners.prometheus_stats(STATS_PORT, to_admin["name"]), listeners.health(HEALTH_PORT, to_admin["name"])]
    resources = {"listeners": [*listeners_, *local], "clusters": [*clusters, to_admin]}
    return {"node": {"id": node, "cluster": app}, "admin": admin, "stats_config": stats, "static_resources": resources}


class RefusedObjects(ValueError):
    pass


def checked(objects: list[dict[str, Any]]) -> Objects:
    """The objects indexed for the lab, once every Istio object among them passes the strict models the
    roles check with."""
    refused = istio_models.validate(objects)
    if refused:
        raise RefusedObjects("Istio objects refused by the models:\n" + "\n".join(refused))
    return index(objects)


def sidecar(
    objects: Objects,
    pods: list[Pod],
    pod: Pod,
    tls: TlsFiles,
    trust_domain: str,
    files: EndpointFiles = ENDPOINT_FILES,
) -> dict[str, Any]:
    """The Envoy bootstrap of `pod`'s sidecar."""
    reachable = objects.reachable(pod.namespace, pod.app)
    out_clusters, out_listeners = _outbound(objects, pods, reachable, tls, trust_domain, files)
    in_clusters, in_listeners = _inbound(objects, pod, tls, trust_domain)
    workload = objects.workload(pod.namespace, pod.app, pod.version)
    health_listeners, health_clusters = _app_health(workload.container)
    stats = stats_config(workload.annotations)
    listeners_ = in_listeners + out_listeners + health_listeners
    return _bootstrap(pod.name, pod.app, listeners_, out_clusters + in_clusters + health_clusters, stats)


def port_number(container: dict[str, Any], port: int | str) -> int:
    """A probe's port as the container declares it: a number, or the name of one of its ports."""
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    return int(named.get(port, port))


def http_probes(container: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """The container's httpGet probes: livez or readyz -> (its port number, its path)."""
    found = {}
    for kind, key in PROBES.items():
        get = container.get(key, {}).get("httpGet")
        if get is not None:
            found[kind] = (port_number(container, get["port"]), str(get["path"]))
    return found


def tcp_probes(container: dict[str, Any]) -> dict[str, int]:
    """The container's tcpSocket probes: livez or readyz -> its port number."""
    found = {}
    for kind, key in PROBES.items():
        socket = container.get(key, {}).get("tcpSocket")
        if socket is not None:
            found[kind] = port_number(container, socket["port"])
    return found


def _tcp_checked(port: int) -> dict[str, Any]:
    """A cluster to the app's port on loopback whose one host Envoy dials every second (a connect, nothing sent):
    pilot-agent's check of a rewritten tcpSocket probe, cached for at most that second."""
    checked = cluster(f"{APP_HEALTH}_tcp|{port}", {}, [("127.0.0.1", port)], http2=False, tcp=True)
    # No traffic is ever routed to it: without no_traffic_interval Envoy would check it once a minute.
    check = {"timeout": "1s", "interval": "1s", "no_traffic_interval": "1s", "unhealthy_threshold": 1,
             "healthy_threshold": 1}  # fmt: skip
    return {**checked, "health_checks": [{**check, "tcp_health_check": {}}]}


def _app_health(container: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Istio's probe rewrite: the app's httpGet and tcpSocket probes answered on 15020 (none when it has no
    such probe); an httpGet by the app's own path, a tcpSocket by whether its port takes a connection."""
    probes, sockets = http_probes(container), tcp_probes(container)
    if not probes and not sockets:
        return [], []
    clusters = {
        port: cluster(f"{APP_HEALTH}|{port}", {}, [("127.0.0.1", port)], http2=False) for port, _ in probes.values()
    }
    checked = {port: _tcp_checked(port) for port in sockets.values()}
    paths = {kind: (clusters[port]["name"], path) for kind, (port, path) in probes.items()}
    by_kind = {kind: checked[port]["name"] for kind, port in sockets.items()}
    return [listeners.app_health(APP_HEALTH_PORT, paths, by_kind)], [*clusters.values(), *checked.values()]


def pods_from(objects: Objects, prefix: str, first: int) -> list[Pod]:
    """The pods the Deployments ask for, each with the next address of the lab network (deterministic)."""
    pods: list[Pod] = []
    for w in objects.workloads.values():
        for i in range(w.replicas):
            ip = f"{prefix}{first + len(pods)}"
            pods.append(Pod(name=f"{w.name}-{i}", namespace=w.namespace, app=w.app, version=w.version,
                            account=w.account, ip=ip))  # fmt: skip
    return pods


def edge_hosts(objects: Objects, trust_domain: str) -> set[str]:
    """The services whose AuthorizationPolicies admit the ingress controller's identity: what the edge routes."""
    edge = principal(trust_domain, EDGE_NAMESPACE, EDGE_ACCOUNT)
    return {s.fqdn for s in objects.services.values() if edge in (objects.principals(s.namespace, s.app) or [])}


def ingress(objects: Objects, pods: list[Pod], tls: TlsFiles, trust_domain: str, port: int) -> dict[str, Any]:
    """The lab's edge: plaintext HTTP in on `port`, out over mTLS with the ingress controller's own identity,
    to the hosts whose policies admit the ingress."""
    clusters, outbound = _outbound(objects, pods, edge_hosts(objects, trust_domain), tls, trust_domain, ENDPOINT_FILES)
    (listener,) = [o for o in outbound if o["address"]["socket_address"]["port_value"] == port]
    listener["name"], listener["address"]["socket_address"]["address"] = f"ingress_{port}", "0.0.0.0"  # noqa: S104
    # The edge answers for any host name, as an Istio Gateway with hosts ["*"] does.
    config = listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
    config["virtual_hosts"] = [
        {**vhost, "domains": ["*"]} for vhost in config["virtual_hosts"] if vhost["name"] != "block_all"
    ]
    return _bootstrap("ingress", EDGE_APP, [listener], clusters, stats_config({}))
