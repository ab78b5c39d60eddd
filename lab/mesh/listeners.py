"""Inbound (STRICT mTLS + AuthorizationPolicy) and outbound (routes by host) listeners of a sidecar."""

from __future__ import annotations

from typing import Any

from lab.mesh.clusters import TlsFiles

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
RBAC = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC"
NETWORK_RBAC = "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC"
TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"


def _address(ip: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": ip, "port_value": port}}


def rbac(principals: list[str] | None, *, network: str | None = None) -> dict[str, Any]:
    """AuthorizationPolicy ALLOW on source principals; an empty rule list allows nobody. None: no policy.
    With network (a stat prefix), the TCP filter: Istio enforces the same policy on a TCP port per connection."""
    if principals is None:
        return {}
    policies = {}
    if principals:
        ids = [{"authenticated": {"principal_name": {"exact": f"spiffe://{p}"}}} for p in principals]
        policies["allowed-callers"] = {"permissions": [{"any": True}], "principals": ids}
    rules = {"action": "ALLOW", "policies": policies}
    if network is not None:
        config = {"@type": NETWORK_RBAC, "stat_prefix": network, "rules": rules}
        return {"name": "envoy.filters.network.rbac", "typed_config": config}
    return {"name": "envoy.filters.http.rbac", "typed_config": {"@type": RBAC, "rules": rules}}


def tcp_proxy(stat_prefix: str, cluster: str) -> dict[str, Any]:
    """Bytes both ways to one cluster (a TCP port: Istio neither parses nor routes it)."""
    config = {"@type": TCP_PROXY, "stat_prefix": stat_prefix, "cluster": cluster}
    return {"name": "envoy.filters.network.tcp_proxy", "typed_config": config}


# Istio's default profile writes no access log; the lab's sidecars log what a fault hunt needs: every
# answer of 500 or more and every request Envoy flagged (overflow, no healthy upstream, no route, ...).
# Logging every request cost each pass more CPU than its routing (a write to conmon per line).
ACCESS_LOG = {
    "name": "envoy.access_loggers.stdout",
    "filter": {
        "or_filter": {
            "filters": [
                {
                    "status_code_filter": {
                        "comparison": {
                            "op": "GE",
                            "value": {"default_value": 500, "runtime_key": "access_log.min_status"},
                        }
                    }
                },
                {"response_flag_filter": {}},
            ]
        }
    },
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"},
}


def http_manager(stat_prefix: str, route_config: dict[str, Any], filters: list[dict[str, Any]]) -> dict[str, Any]:
    config = {
        "@type": HCM,
        "stat_prefix": stat_prefix,
        "codec_type": "AUTO",
        "route_config": route_config,
        "http_filters": [*filters, ROUTER],
        "access_log": [ACCESS_LOG],
    }
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": config}


def downstream_tls(tls: TlsFiles, trust_domain: str) -> dict[str, Any]:
    """STRICT: TLS only, a client certificate required, from this trust domain."""
    context = {
        "require_client_certificate": True,
        "common_tls_context": {
            "alpn_protocols": ["h2", "http/1.1"],
            **tls.context([{"san_type": "URI", "matcher": {"prefix": f"spiffe://{trust_domain}/"}}]),
        },
    }
    return {"name": "envoy.transport_sockets.tls", "typed_config": {"@type": DOWNSTREAM_TLS, **context}}


# Where Istio rewrites an app container's httpGet probe on pilot-agent's port: + livez or readyz.
APP_HEALTH_PATH = "/app-health/app/"
TLS_INSPECTOR = {
    "name": "envoy.filters.listener.tls_inspector",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"},
}


def inbound_routes(port: int, cluster: str) -> dict[str, Any]:
    """Istio's inbound route: everything to the app, no timeout, retried only if reset before the request."""
    action = {
        "cluster": cluster,
        "timeout": "0s",
        "retry_policy": {"retry_on": "reset-before-request", "num_retries": 2},
    }
    vhost = {
        "name": "inbound",
        "domains": ["*"],
        "routes": [{"name": "default", "match": {"prefix": "/"}, "route": action}],
    }
    return {"name": f"inbound|{port}", "virtual_hosts": [vhost]}


def inbound(
    ip: str,
    port: int,
    cluster: str,
    tls: TlsFiles,
    trust_domain: str,
    principals: list[str] | None,
    *,
    tcp: bool = False,
) -> dict[str, Any]:
    """A plaintext connection matches no filter chain and is closed (Istio: NR filter_chain_not_found)."""
    if tcp:
        prefix = f"inbound_{port}"
        filters = [f for f in [rbac(principals, network=prefix)] if f] + [tcp_proxy(prefix, cluster)]
    else:
        http = [f for f in [rbac(principals)] if f]
        filters = [http_manager(f"inbound_{port}", inbound_routes(port, cluster), http)]
    chain = {
        "filter_chain_match": {"transport_protocol": "tls"},
        "transport_socket": downstream_tls(tls, trust_domain),
        "filters": filters,
    }
    return {
        "name": f"inbound_{ip}_{port}",
        "address": _address(ip, port),
        "listener_filters": [TLS_INSPECTOR],
        "filter_chains": [chain],
    }


def outbound(ip: str, port: int, virtual_hosts: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the app's calls to port `port` of any service land (the FQDNs resolve to `ip` in the pod)."""
    route_config = {"name": str(port), "virtual_hosts": virtual_hosts}
    return {
        "name": f"outbound_{ip}_{port}",
        "address": _address(ip, port),
        "filter_chains": [{"filters": [http_manager(f"outbound_{port}", route_config, [])]}],
    }


def tcp_outbound(ip: str, port: int, cluster: str) -> dict[str, Any]:
    """Where the app's connections to one TCP service land: the service's own address (its cluster IP)."""
    return {
        "name": f"outbound_{ip}_{port}",
        "address": _address(ip, port),
        "filter_chains": [{"filters": [tcp_proxy(f"outbound_{ip}_{port}", cluster)]}],
    }


def prometheus_stats(port: int, cluster_name: str) -> dict[str, Any]:
    """Istio's plain stats listener (15090): GET /stats/prometheus answered by the local admin endpoint, which
    itself listens on the pod's loopback only. Nothing else of the admin API is routed."""
    return _get_only("prometheus_stats", port, [({"prefix": "/stats/prometheus"}, cluster_name, {})])


def health(port: int, cluster_name: str) -> dict[str, Any]:
    """Istio's health port (15021, pilot-agent's there): GET /healthz/ready answered by the admin's /ready, what
    the kubelet's readiness probe of istio-proxy asks."""
    return _get_only("health", port, [({"path": "/healthz/ready"}, cluster_name, {"prefix_rewrite": "/ready"})])


HEALTH_CHECK = "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck"


def _socket_check(path: str, checked: str) -> dict[str, Any]:
    """Answer GET path itself: 200 while the checked cluster's one host is healthy, 503 otherwise."""
    headers = [
        {"name": ":path", "string_match": {"exact": path}},
        {"name": ":method", "string_match": {"exact": "GET"}},
    ]
    config = {"@type": HEALTH_CHECK, "pass_through_mode": False, "headers": headers,
              "cluster_min_healthy_percentages": {checked: {"value": 100}}}  # fmt: skip
    return {"name": "envoy.filters.http.health_check", "typed_config": config}


def app_health(port: int, paths: dict[str, tuple[str, str]], sockets: dict[str, str] | None = None) -> dict[str, Any]:
    """pilot-agent's port (15020), where Istio rewrites the app's probes so that the kubelet need not pass STRICT
    mTLS, in plaintext: GET /app-health/app/livez (and readyz) answered by the app's own httpGet probe (paths:
    livez or readyz -> the cluster to the app's port on the pod's loopback, and its path), or for a tcpSocket
    probe (sockets: livez or readyz -> a cluster whose host Envoy checks by connecting) by that check."""
    routes = [({"path": APP_HEALTH_PATH + kind}, to, {"prefix_rewrite": path}) for kind, (to, path) in paths.items()]
    checks = [_socket_check(APP_HEALTH_PATH + kind, checked) for kind, checked in (sockets or {}).items()]
    return _get_only("app_health", port, routes, checks)


def _get_only(
    name: str,
    port: int,
    routes: list[tuple[dict[str, str], str, dict[str, str]]],
    filters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A listener on every address of the pod that routes a few read-only paths (GET only), each (match,
    cluster, rewrite), after these HTTP filters, and nothing else."""
    get_only = {"headers": [{"name": ":method", "string_match": {"exact": "GET"}}]}
    found = [{"match": match | get_only, "route": {"cluster": cluster} | rewrite} for match, cluster, rewrite in routes]
    vhost = {"name": name, "domains": ["*"], "routes": found}
    manager = http_manager(name, {"name": name, "virtual_hosts": [vhost]}, filters or [])
    del manager["typed_config"]["access_log"]
    return {"name": name, "address": _address("0.0.0.0", port), "filter_chains": [{"filters": [manager]}]}  # noqa: S104
