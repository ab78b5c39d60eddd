"""One sidecar's Envoy bootstrap from the rendered objects and the lab's pods.

The lab's stand-ins for what istiod knows: pods (address, labels, service account) replace EDS, and the
Sidecar object's egress hosts decide which clusters and virtual hosts a sidecar gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from ansible_collections.miniapp.mesh.plugins.module_utils import istio_models
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_catalog import ISTIO_CONCURRENCY, spiffe_id
from ansible_collections.miniapp.mesh.plugins.module_utils.mesh_render import (
    EDGE_ACCOUNT,
    EDGE_APP,
    EDGE_NAMESPACE,
    PROXY_CONFIG,
    STATS_INCLUSION,
)
from lab.mesh import listeners
from lab.mesh.clusters import TlsFiles, cluster, cluster_name, subset_policy, upstream_tls
from lab.mesh.routes import block_all, default_route, domains, routes

ADMIN_PORT = 15000
STATS_PORT = 15090
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
# own from TCP_IPS (the lab's stand-in for its cluster IP), where the sidecar listens for it alone.
OUTBOUND_IP = "127.0.0.2"
TCP_IPS = "127.0.1."


class Pod(BaseModel):
    """A pod as the compiler needs it: its identity and its address (the lab state extends it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    namespace: str
    app: str
    version: str
    account: str
    ip: str


@dataclass(frozen=True)
class Port:
    number: int
    http2: bool
    tcp: bool = False


def _kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def fqdn(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['name']}.{obj['metadata']['namespace']}.svc.cluster.local"


def service_ports(service: dict[str, Any]) -> list[Port]:
    """Each port's protocol as Istio selects it: appProtocol, else the port name's prefix (http, grpc, tcp)."""
    ports = []
    for p in service["spec"]["ports"]:
        protocol = p.get("appProtocol") or p.get("name", "").split("-", 1)[0]
        ports.append(Port(p["port"], protocol in ("grpc", "http2"), protocol == "tcp"))
    return ports


def tcp_addresses(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Every Service with a TCP port -> the address its name resolves to inside pods (sorted, so stable)."""
    hosts = sorted(fqdn(s) for s in _kind(objects, "Service") if any(p.tcp for p in service_ports(s)))
    return {host: f"{TCP_IPS}{i + 1}" for i, host in enumerate(hosts)}


def egress_hosts(objects: list[dict[str, Any]], pod: Pod) -> set[str]:
    """Hosts the pod's Sidecar lets it reach (all services when it has none)."""
    services = {fqdn(s) for s in _kind(objects, "Service")}
    for sidecar in _kind(objects, "Sidecar"):
        if (
            sidecar["metadata"]["namespace"] == pod.namespace
            and sidecar["spec"]["workloadSelector"]["labels"].get("app") == pod.app
        ):
            hosts = {h.split("/", 1)[1] for e in sidecar["spec"]["egress"] for h in e["hosts"]}
            return services & hosts
    return services


def principals(objects: list[dict[str, Any]], pod: Pod) -> list[str] | None:
    """Source principals the ALLOW policies selecting this pod admit; None when no policy selects it."""
    found: list[str] | None = None
    for policy in _kind(objects, "AuthorizationPolicy"):
        selector = policy["spec"].get("selector", {}).get("matchLabels", {})
        if policy["metadata"]["namespace"] != pod.namespace or selector.get("app", pod.app) != pod.app:
            continue
        found = found or []
        found += [
            p
            for rule in policy["spec"].get("rules", [])
            for f in rule.get("from", [])
            for p in f["source"].get("principals", [])
        ]
    return found


def _outbound_clusters(
    service: dict[str, Any], dr: dict[str, Any] | None, pods: list[Pod], tls: TlsFiles, trust_domain: str
) -> list[dict[str, Any]]:
    host, app = fqdn(service), service["spec"]["selector"]["app"]
    top = (dr or {}).get("spec", {}).get("trafficPolicy", {})
    subsets = [("", top, None)] + [
        (s["name"], subset_policy(top, s.get("trafficPolicy")), s["labels"].get("version"))
        for s in (dr or {}).get("spec", {}).get("subsets", [])
    ]
    out = []
    for port in service_ports(service):
        for subset, policy, version in subsets:
            members = [
                p
                for p in pods
                if p.app == app and p.namespace == service["metadata"]["namespace"] and version in (None, p.version)
            ]
            name = cluster_name("outbound", port.number, subset, host)
            sni = f"outbound_.{port.number}_.{subset}_.{host}"
            sans = sorted({spiffe_id(trust_domain, p.namespace, p.account) for p in members})
            addresses = [(p.ip, port.number) for p in members]
            out.append(cluster(name, policy, addresses, port.http2, upstream_tls(tls, sni, sans), tcp=port.tcp))
    return out


def _outbound(
    objects: list[dict[str, Any]], pods: list[Pod], pod: Pod, tls: TlsFiles, trust_domain: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Clusters and outbound listeners for the hosts the pod may reach, plus REGISTRY_ONLY's block_all."""
    by_host = {fqdn(o): o for o in _kind(objects, "Service")}
    rules = {o["spec"]["host"]: o for o in _kind(objects, "DestinationRule")}
    virtual = {h: o for o in _kind(objects, "VirtualService") for h in o["spec"]["hosts"]}
    clusters: list[dict[str, Any]] = []
    vhosts: dict[int, list[dict[str, Any]]] = {}
    tcp: list[dict[str, Any]] = []
    addresses = tcp_addresses(objects)
    for host in sorted(egress_hosts(objects, pod)):
        clusters += _outbound_clusters(by_host[host], rules.get(host), pods, tls, trust_domain)
        for port in service_ports(by_host[host]):
            if port.tcp:
                name = cluster_name("outbound", port.number, "", host)
                tcp.append(listeners.tcp_outbound(addresses[host], port.number, name))
                continue
            found = (
                routes(virtual[host]["spec"], port.number) if host in virtual else [default_route(host, port.number)]
            )
            vhosts.setdefault(port.number, []).append(
                {"name": f"{host}:{port.number}", "domains": domains(host, port.number), "routes": found}
            )
    return clusters, [
        listeners.outbound(OUTBOUND_IP, number, [*hosts, block_all()]) for number, hosts in sorted(vhosts.items())
    ] + tcp


def _inbound(
    objects: list[dict[str, Any]], pod: Pod, tls: TlsFiles, trust_domain: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per port of the pod's Service: a STRICT listener on the pod address in front of the app on loopback.
    Of the traffic policy only connectionPool applies inbound, as in Istio."""
    own = next(
        s
        for s in _kind(objects, "Service")
        if s["metadata"]["namespace"] == pod.namespace and s["spec"]["selector"]["app"] == pod.app
    )
    rule = next((o for o in _kind(objects, "DestinationRule") if o["spec"]["host"] == fqdn(own)), {})
    top = rule.get("spec", {}).get("trafficPolicy", {})
    policy = {"connectionPool": top["connectionPool"]} if "connectionPool" in top else {}
    clusters, listeners_, allowed = [], [], principals(objects, pod)
    for port in service_ports(own):
        name = cluster_name("inbound", port.number, "", "")
        clusters.append(cluster(name, policy, [("127.0.0.1", port.number)], port.http2, tcp=port.tcp))
        listeners_.append(listeners.inbound(pod.ip, port.number, name, tls, trust_domain, allowed, tcp=port.tcp))
    return clusters, listeners_


def stats_config(annotations: dict[str, str]) -> dict[str, Any]:
    """Istio's stats tags and inclusion list, with the mesh's and the pod's inclusion prefixes."""
    prefixes = [*ISTIO_STATS_PREFIXES, *STATS_INCLUSION.split(",")]
    prefixes += [p for p in annotations.get(STATS_ANNOTATION, "").split(",") if p and p not in prefixes]
    patterns = [{"prefix": p} for p in prefixes] + [{"suffix": s} for s in ISTIO_STATS_SUFFIXES]
    return {**STATS_CONFIG, "stats_matcher": {"inclusion_list": {"patterns": patterns}}}


def concurrency(objects: list[dict[str, Any]], pod: Pod) -> int:
    """The sidecar's worker threads from the pod's ProxyConfig annotation, else Istio's default."""
    raw = _annotations(objects, pod).get(PROXY_CONFIG)
    return int(json.loads(raw).get("concurrency", ISTIO_CONCURRENCY)) if raw else ISTIO_CONCURRENCY


def _annotations(objects: list[dict[str, Any]], pod: Pod) -> dict[str, str]:
    for deployment in _kind(objects, "Deployment"):
        template = deployment["spec"]["template"]["metadata"]
        if deployment["metadata"]["namespace"] == pod.namespace and template["labels"] == {
            "app": pod.app,
            "version": pod.version,
        }:
            return dict(template.get("annotations", {}))
    return {}


def _bootstrap(
    node: str, app: str, listeners_: list[dict[str, Any]], clusters: list[dict[str, Any]], stats: dict[str, Any]
) -> dict[str, Any]:
    """Admin (tests read it), Istio's stats listener and tags, and the given listeners and clusters."""
    admin = {"address": {"socket_address": {"address": "0.0.0.0", "port_value": ADMIN_PORT}}}  # noqa: S104
    to_admin = cluster("prometheus_stats", {}, [("127.0.0.1", ADMIN_PORT)], http2=False)
    resources = {
        "listeners": [*listeners_, listeners.prometheus_stats(STATS_PORT, to_admin["name"])],
        "clusters": [*clusters, to_admin],
    }
    return {"node": {"id": node, "cluster": app}, "admin": admin, "stats_config": stats, "static_resources": resources}


class RefusedObjects(ValueError):
    pass


def checked(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects, once every Istio object among them passes the strict models the roles check with."""
    refused = istio_models.validate(objects)
    if refused:
        raise RefusedObjects("Istio objects refused by the models:\n" + "\n".join(refused))
    return objects


def sidecar(
    objects: list[dict[str, Any]], pods: list[Pod], pod: Pod, tls: TlsFiles, trust_domain: str
) -> dict[str, Any]:
    """The Envoy bootstrap of `pod`'s sidecar."""
    out_clusters, out_listeners = _outbound(objects, pods, pod, tls, trust_domain)
    in_clusters, in_listeners = _inbound(objects, pod, tls, trust_domain)
    stats = stats_config(_annotations(objects, pod))
    return _bootstrap(pod.name, pod.app, in_listeners + out_listeners, out_clusters + in_clusters, stats)


def pods_from(objects: list[dict[str, Any]], prefix: str, first: int) -> list[Pod]:
    """The pods the Deployments ask for, each with the next address of the lab network (deterministic)."""
    pods: list[Pod] = []
    for deployment in _kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        for i in range(deployment["spec"]["replicas"]):
            ip = f"{prefix}{first + len(pods)}"
            pods.append(
                Pod(
                    name=f"{deployment['metadata']['name']}-{i}",
                    namespace=deployment["metadata"]["namespace"],
                    app=labels["app"],
                    version=labels["version"],
                    account=account,
                    ip=ip,
                )
            )
    return pods


def ingress(
    objects: list[dict[str, Any]], pods: list[Pod], tls: TlsFiles, trust_domain: str, hosts: set[str], port: int
) -> dict[str, Any]:
    """The lab's edge: plaintext HTTP in on `port`, out over mTLS with the ingress controller's own identity,
    to the hosts whose callers include the ingress."""
    edge = Pod(name="ingress", namespace=EDGE_NAMESPACE, app=EDGE_APP, version="", account=EDGE_ACCOUNT, ip="0.0.0.0")  # noqa: S104
    sidecar_hosts = {f"{EDGE_NAMESPACE}/{h}" for h in hosts}
    scoped = [
        *objects,
        {
            "kind": "Sidecar",
            "metadata": {"namespace": EDGE_NAMESPACE, "name": "ingress"},
            "spec": {"workloadSelector": {"labels": {"app": edge.app}}, "egress": [{"hosts": sorted(sidecar_hosts)}]},
        },
    ]
    clusters, outbound = _outbound(scoped, pods, edge, tls, trust_domain)
    (listener,) = [o for o in outbound if o["address"]["socket_address"]["port_value"] == port]
    listener["name"], listener["address"]["socket_address"]["address"] = f"ingress_{port}", "0.0.0.0"  # noqa: S104
    # The edge answers for any host name, as an Istio Gateway with hosts ["*"] does.
    config = listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]
    config["virtual_hosts"] = [
        {**vhost, "domains": ["*"]} for vhost in config["virtual_hosts"] if vhost["name"] != "block_all"
    ]
    return _bootstrap("ingress", edge.app, [listener], clusters, stats_config({}))
