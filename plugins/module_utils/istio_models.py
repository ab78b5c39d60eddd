# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""Strict, typed models of the Istio API fields miniapp-mesh writes, from istio.io's reference
(networking.istio.io/v1, security.istio.io/v1, install.istio.io/v1alpha1). A field we do not use, or a
misspelt one, is refused with its path; so is a value of the wrong type or out of range. The roles check
every Istio object they render with `validate`, and the lab's mesh compiler accepts only objects that pass.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from typing import Annotated, Any, Dict, List, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

_DURATION = re.compile(r"^\d+(\.\d+)?(ms|s|m|h)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _duration(value: str | None) -> str | None:
    if value is not None and not _DURATION.match(value):
        raise ValueError("%r is not a duration such as 250ms, 3s or 1m" % (value,))
    return value


# Istio's duration fields (a protobuf Duration written as 250ms, 3s, 1m), checked wherever they appear.
Duration = Annotated[Optional[str], AfterValidator(_duration)]


class StringMatch(_Strict):
    exact: Optional[str] = None
    prefix: Optional[str] = None
    regex: Optional[str] = None


class PortSelector(_Strict):
    number: int = Field(ge=1, le=65535)


class Destination(_Strict):
    host: str = Field(min_length=1)
    subset: Optional[str] = None
    port: Optional[PortSelector] = None


class RouteDestination(_Strict):
    destination: Destination
    weight: Optional[int] = Field(default=None, ge=0, le=100)


class HttpMatch(_Strict):
    name: Optional[str] = None
    headers: Optional[Dict[str, StringMatch]] = None
    uri: Optional[StringMatch] = None
    port: Optional[int] = Field(default=None, ge=1, le=65535)
    ignoreUriCase: Optional[bool] = None


class Retries(_Strict):
    attempts: int = Field(ge=0)
    perTryTimeout: Duration = None
    retryOn: Optional[str] = None


class HttpRoute(_Strict):
    name: Optional[str] = None
    match: Optional[List[HttpMatch]] = None
    route: List[RouteDestination] = Field(min_length=1)
    retries: Optional[Retries] = None
    timeout: Duration = None


class VirtualServiceSpec(_Strict):
    hosts: List[str] = Field(min_length=1)
    gateways: Optional[List[str]] = None
    http: List[HttpRoute] = Field(min_length=1)


class TcpPool(_Strict):
    maxConnections: Optional[int] = Field(default=None, ge=1)
    connectTimeout: Optional[str] = None


class HttpPool(_Strict):
    http1MaxPendingRequests: Optional[int] = Field(default=None, ge=1)
    http2MaxRequests: Optional[int] = Field(default=None, ge=1)
    maxRequestsPerConnection: Optional[int] = Field(default=None, ge=0)
    maxRetries: Optional[int] = Field(default=None, ge=0)


class ConnectionPool(_Strict):
    tcp: Optional[TcpPool] = None
    http: Optional[HttpPool] = None


class OutlierDetection(_Strict):
    consecutive5xxErrors: Optional[int] = Field(default=None, ge=0)
    consecutiveGatewayErrors: Optional[int] = Field(default=None, ge=0)
    interval: Duration = None
    baseEjectionTime: Duration = None
    maxEjectionPercent: Optional[int] = Field(default=None, ge=0, le=100)
    minHealthPercent: Optional[int] = Field(default=None, ge=0, le=100)


class LoadBalancer(_Strict):
    simple: Literal["UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"]


class TrafficPolicy(_Strict):
    connectionPool: Optional[ConnectionPool] = None
    outlierDetection: Optional[OutlierDetection] = None
    loadBalancer: Optional[LoadBalancer] = None


class Subset(_Strict):
    name: str = Field(min_length=1)
    labels: Dict[str, str]
    trafficPolicy: Optional[TrafficPolicy] = None


class DestinationRuleSpec(_Strict):
    host: str = Field(min_length=1)
    trafficPolicy: Optional[TrafficPolicy] = None
    subsets: Optional[List[Subset]] = None


class WorkloadSelector(_Strict):
    matchLabels: Dict[str, str]


class Mtls(_Strict):
    mode: Literal["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]


class PeerAuthenticationSpec(_Strict):
    selector: Optional[WorkloadSelector] = None
    mtls: Mtls


class Source(_Strict):
    principals: Optional[List[str]] = None
    namespaces: Optional[List[str]] = None


class From(_Strict):
    source: Source


class Rule(_Strict):
    from_: Optional[List[From]] = Field(default=None, alias="from")


class AuthorizationPolicySpec(_Strict):
    selector: Optional[WorkloadSelector] = None
    action: Literal["ALLOW", "DENY", "AUDIT", "CUSTOM"] = "ALLOW"
    rules: Optional[List[Rule]] = None


class SidecarWorkloadSelector(_Strict):
    labels: Dict[str, str]


class Egress(_Strict):
    hosts: List[str] = Field(min_length=1)


class OutboundTrafficPolicy(_Strict):
    mode: Literal["REGISTRY_ONLY", "ALLOW_ANY"]


class SidecarSpec(_Strict):
    workloadSelector: Optional[SidecarWorkloadSelector] = None
    egress: Optional[List[Egress]] = None
    outboundTrafficPolicy: Optional[OutboundTrafficPolicy] = None


class ServicePort(_Strict):
    number: int = Field(ge=1, le=65535)
    name: str
    protocol: Literal["TCP", "TLS", "HTTP", "HTTPS", "GRPC"]


class ServiceEntrySpec(_Strict):
    hosts: List[str] = Field(min_length=1)
    location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"]
    resolution: Literal["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"]
    ports: List[ServicePort] = Field(min_length=1)
    exportTo: Optional[List[str]] = None


class ProxyStatsMatcher(_Strict):
    inclusionPrefixes: Optional[List[str]] = None
    inclusionRegexps: Optional[List[str]] = None


class ProxyConfig(_Strict):
    proxyStatsMatcher: Optional[ProxyStatsMatcher] = None
    holdApplicationUntilProxyStarts: Optional[bool] = None


class MeshMtls(_Strict):
    minProtocolVersion: Literal["TLSV1_2", "TLSV1_3"]


class MeshConfig(_Strict):
    outboundTrafficPolicy: OutboundTrafficPolicy
    meshMTLS: Optional[MeshMtls] = None
    defaultConfig: Optional[ProxyConfig] = None
    enablePrometheusMerge: Optional[bool] = None
    accessLogFile: Optional[str] = None
    trustDomain: Optional[str] = None


class Component(_Strict):
    enabled: bool
    namespace: Optional[str] = None


class Components(_Strict):
    base: Optional[Component] = None
    pilot: Optional[Component] = None
    cni: Optional[Component] = None
    ingressGateways: Optional[List[Dict[str, object]]] = None
    egressGateways: Optional[List[Dict[str, object]]] = None


class CniValues(_Strict):
    cniBinDir: str
    cniConfDir: str
    chained: Optional[bool] = None
    excludeNamespaces: Optional[List[str]] = None


class GlobalValues(_Strict):
    hub: str
    tag: str
    istioNamespace: Optional[str] = None
    imagePullPolicy: Optional[Literal["IfNotPresent", "Always", "Never"]] = None


class TelemetryValues(_Strict):
    enabled: bool


class Values(_Strict):
    global_: GlobalValues = Field(alias="global")
    cni: Optional[CniValues] = None
    telemetry: Optional[TelemetryValues] = None
    revision: Optional[str] = None


class IstioOperatorSpec(_Strict):
    profile: Literal["minimal", "default", "empty", "remote", "ambient"]
    revision: Optional[str] = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    hub: str
    tag: str
    meshConfig: MeshConfig
    components: Components
    values: Values


SPECS: dict[tuple[str, str], type[BaseModel]] = {
    ("networking.istio.io", "VirtualService"): VirtualServiceSpec,
    ("networking.istio.io", "DestinationRule"): DestinationRuleSpec,
    ("networking.istio.io", "Sidecar"): SidecarSpec,
    ("networking.istio.io", "ServiceEntry"): ServiceEntrySpec,
    ("security.istio.io", "PeerAuthentication"): PeerAuthenticationSpec,
    ("security.istio.io", "AuthorizationPolicy"): AuthorizationPolicySpec,
    ("install.istio.io", "IstioOperator"): IstioOperatorSpec,
}


def is_istio(obj: dict[str, Any]) -> bool:
    return str(obj.get("apiVersion", "")).split("/")[0].endswith("istio.io")


def problems(obj: dict[str, Any]) -> list[str]:
    """Lines naming the object, the field path and what is wrong; empty when the object is valid."""
    group = str(obj.get("apiVersion", "")).split("/")[0]
    where = "%s %s/%s" % (
        obj.get("kind"),
        obj.get("metadata", {}).get("namespace", ""),
        obj.get("metadata", {}).get("name", "?"),
    )
    model = SPECS.get((group, str(obj.get("kind"))))
    if model is None:
        return ["%s: %s %s is not an Istio kind miniapp-mesh writes" % (where, obj.get("apiVersion"), obj.get("kind"))]
    try:
        model.model_validate(obj.get("spec") or {})
    except ValidationError as err:
        return ["%s: spec.%s: %s" % (where, ".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors()]
    return []


def validate(objects: list[dict[str, Any]]) -> list[str]:
    """Every problem of every Istio object among these (other kinds are left to the Kubernetes schemas)."""
    return [line for obj in objects if is_istio(obj) for line in problems(obj)]
