"""Outbound and inbound Envoy clusters from DestinationRule traffic policies, as Istio writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lab.mesh.endpoints import EndpointFiles, load_assignment

# Between sidecars TLS 1.3 only, as the design asks and as Istio does with meshMTLS.minProtocolVersion TLSV1_3
# (roles/istio renders it): TLS 1.3 has no cipher list to configure, and nothing in the mesh speaks 1.2.
MESH_TLS = {"tls_minimum_protocol_version": "TLSv1_3", "tls_maximum_protocol_version": "TLSv1_3"}


# Istio writes every threshold, and this when the DestinationRule leaves it unset (not Envoy's 1024/3).
UNSET_THRESHOLD = 4294967295
POLICY_FIELDS = ("connectionPool", "outlierDetection", "loadBalancer", "tls")
CONNECT_TIMEOUT = "10s"  # mesh connectTimeout default
UPSTREAM_HTTP = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


@dataclass(frozen=True)
class TlsFiles:
    """Where a sidecar reads its certificate and the mesh's root: Istio's two SDS resources (default, ROOTCA),
    each a file Envoy watches and reloads when it is replaced, so a renewed certificate is served by the next
    handshake without a restart (lab/mesh/rotate.py renews them)."""

    directory: str

    def _sds(self, name: str) -> dict[str, Any]:
        source = {"path_config_source": {"path": f"{self.directory}/{name}.json"}, "resource_api_version": "V3"}
        return {"name": name, "sds_config": source}

    def context(self, san_matchers: list[dict[str, Any]]) -> dict[str, Any]:
        """The common TLS context: TLS 1.3, this workload's certificate, peers verified against the root and
        san_matchers."""
        return {
            "tls_params": MESH_TLS,
            "tls_certificate_sds_secret_configs": [self._sds("default")],
            "combined_validation_context": {
                "default_validation_context": {"match_typed_subject_alt_names": san_matchers},
                "validation_context_sds_secret_config": self._sds("ROOTCA"),
            },
        }


def duration(value: str) -> str:
    """An Istio duration ("1s", "500ms", "1m", "1h") as a protobuf JSON duration ("0.5s")."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value)
    if not match:
        raise ValueError(f"duration {value!r}: use a number with ms, s, m or h")
    number, unit = float(match[1]), match[2]
    seconds = number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return f"{seconds:g}s"


def cluster_name(direction: str, port: int, subset: str, host: str) -> str:
    """Istio's cluster names: outbound|8080|v1|orders.shop.svc.cluster.local, inbound|8080||."""
    return f"{direction}|{port}|{subset}|{host}"


def subset_policy(top: dict[str, Any], subset: dict[str, Any] | None) -> dict[str, Any]:
    """A subset's policy replaces each top-level field it sets wholesale (Istio's MergeTrafficPolicy: no field merge)."""
    merged = dict(top)
    for key in POLICY_FIELDS:
        if subset and key in subset:
            merged[key] = subset[key]
    return merged


def circuit_breakers(pool: dict[str, Any] | None) -> dict[str, Any]:
    """Thresholds from connectionPool; a value of 0 or unset means unset, written as 4294967295."""
    tcp, http = (pool or {}).get("tcp", {}), (pool or {}).get("http", {})
    chosen = {
        "max_connections": tcp.get("maxConnections", 0),
        "max_pending_requests": http.get("http1MaxPendingRequests", 0),
        "max_requests": http.get("http2MaxRequests", 0),
        "max_retries": http.get("maxRetries", 0),
    }
    thresholds = {key: value if value > 0 else UNSET_THRESHOLD for key, value in chosen.items()}
    return {"thresholds": [{**thresholds, "track_remaining": True}]}


def outlier_detection(outlier: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Envoy outlier_detection and common_lb_config, or (None, None) when the policy has no outlierDetection."""
    if outlier is None:
        return None, None
    out: dict[str, Any] = {"enforcing_success_rate": 0}
    if "consecutive5xxErrors" in outlier:
        errors = outlier["consecutive5xxErrors"]
        out.update(consecutive_5xx=errors, enforcing_consecutive_5xx=100 if errors else 0)
    if "consecutiveGatewayErrors" in outlier:
        errors = outlier["consecutiveGatewayErrors"]
        out.update(consecutive_gateway_failure=errors, enforcing_consecutive_gateway_failure=100 if errors else 0)
    for key, envoy in (("interval", "interval"), ("baseEjectionTime", "base_ejection_time")):
        if key in outlier:
            out[envoy] = duration(outlier[key])
    if outlier.get("maxEjectionPercent", 0) > 0:
        out["max_ejection_percent"] = outlier["maxEjectionPercent"]
    # Panic mode off unless minHealthPercent says otherwise: all ejected means 503 UH, not traffic to bad hosts.
    return out, {"healthy_panic_threshold": {"value": float(outlier.get("minHealthPercent", 0))}}


def _protocol_options(pool: dict[str, Any] | None, http2: bool) -> dict[str, Any]:
    http = (pool or {}).get("http", {})
    common = (
        {"max_requests_per_connection": http["maxRequestsPerConnection"]}
        if http.get("maxRequestsPerConnection")
        else {}
    )
    explicit: dict[str, Any] = {"http2_protocol_options": {}} if http2 else {"http_protocol_options": {}}
    options = {"@type": f"type.googleapis.com/{UPSTREAM_HTTP}", "explicit_http_config": explicit}
    if common:
        options["common_http_protocol_options"] = common
    return {UPSTREAM_HTTP: options}


def upstream_tls(tls: TlsFiles, sni: str, peer_sans: list[str]) -> dict[str, Any]:
    """ISTIO_MUTUAL: present our certificate, verify the peer's SPIFFE URI exactly."""
    sans = [{"san_type": "URI", "matcher": {"exact": san}} for san in peer_sans]
    context = {"sni": sni, "common_tls_context": tls.context(sans)}
    type_url = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    return {"name": "envoy.transport_sockets.tls", "typed_config": {"@type": type_url, **context}}


def cluster(
    name: str,
    policy: dict[str, Any],
    addresses: list[tuple[str, int]] | EndpointFiles,
    http2: bool,
    tls: dict[str, Any] | None = None,
    *,
    tcp: bool = False,
) -> dict[str, Any]:
    """A cluster with the policy's breakers, outlier detection and LB: STATIC on fixed addresses (the pod's own
    app, its admin), EDS from its endpoints file (lab/mesh/endpoints.py) for another service's pods. A TCP
    cluster has no HTTP protocol options."""
    lb = (policy.get("loadBalancer") or {}).get("simple", "LEAST_REQUEST")
    found: dict[str, Any] = (
        {"type": "EDS", "eds_cluster_config": addresses.eds(name)}
        if isinstance(addresses, EndpointFiles)
        else {"type": "STATIC", "load_assignment": load_assignment(name, addresses)}
    )
    out = {
        "name": name,
        **found,
        "connect_timeout": duration(
            (policy.get("connectionPool") or {}).get("tcp", {}).get("connectTimeout", CONNECT_TIMEOUT)
        ),
        "lb_policy": {"LEAST_CONN": "LEAST_REQUEST"}.get(lb, lb),
        "circuit_breakers": circuit_breakers(policy.get("connectionPool")),
    }
    if not tcp:
        out["typed_extension_protocol_options"] = _protocol_options(policy.get("connectionPool"), http2)
    detection, common = outlier_detection(policy.get("outlierDetection"))
    if detection is not None:
        out["outlier_detection"], out["common_lb_config"] = detection, common
    if tls is not None:
        out["transport_socket"] = tls
    return out
