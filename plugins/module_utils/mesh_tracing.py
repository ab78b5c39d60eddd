# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The services' tracing: head sampling from the catalog's `tracing` block (the share of the traces a service
starts that are recorded, by path: the design's 1:10 on hot paths such as payments, 1:1000 on the rest; a trace
that arrives keeps its caller's decision), and where spans go, which is the site's (roles/services'
services_traces_endpoint: an OTLP/HTTP traces URL, the observability role's Tempo; empty, spans only give ids to
logs and exemplars). Pure; errors name the field and the fix. The services check the same values again at start
(kit/settings.py: trace_sample_ratio, trace_hot_paths, otlp_traces_endpoint)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

WHERE = "services_catalog.tracing"
FIELDS = ("sample_ratio", "hot_paths")
_ENDPOINT = re.compile(r"^https?://(?P<host>[a-z0-9.-]+)(:\d{1,5})?/\S*$")
_CLUSTER_HOST = re.compile(r"^(?P<name>[a-z0-9-]+)\.(?P<namespace>[a-z0-9-]+)\.svc\.cluster\.local$")


class TracingError(ValueError):
    """A tracing value that cannot be used; the message names the field and the fix."""


@dataclass(frozen=True)
class Tracing:
    sample_ratio: float = 0.001
    hot_paths: tuple[tuple[str, float], ...] = ()

    def env(self, endpoint: str = "") -> list[dict[str, str]]:
        """Every service container's tracing environment (kit/settings.py reads it), exporting to endpoint."""
        env = [{"name": "MINIAPP_TRACE_SAMPLE_RATIO", "value": f"{self.sample_ratio:g}"}]
        if self.hot_paths:
            env.append({"name": "MINIAPP_TRACE_HOT_PATHS", "value": json.dumps(dict(self.hot_paths), sort_keys=True)})
        if endpoint:
            env.append({"name": "MINIAPP_OTLP_TRACES_ENDPOINT", "value": endpoint})
        return env


def endpoint_checked(endpoint: str) -> str:
    if endpoint and not _ENDPOINT.match(endpoint):
        raise TracingError(
            f"services_traces_endpoint: {endpoint!r}; give the OTLP/HTTP traces URL, such as"
            " http://tempo.monitoring.svc.cluster.local:4318/v1/traces, or leave it empty"
        )
    return endpoint


def egress(endpoint: str) -> list[str]:
    """The Sidecar egress host a service needs to reach an endpoint inside the cluster (namespace/host)."""
    found = _ENDPOINT.match(endpoint)
    cluster = _CLUSTER_HOST.match(found["host"]) if found else None
    return [f"{cluster['namespace']}/{found['host']}"] if found and cluster else []


def _ratio(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise TracingError(f"{where}: {value!r}; give the share of traces recorded, 0 to 1 (0.001 is 1 in 1000)")
    return float(value)


def load(raw: object) -> Tracing:
    """The catalog's tracing block checked; unset, 1:1000 everywhere."""
    if raw is None:
        return Tracing()
    if not isinstance(raw, dict) or not set(raw) <= set(FIELDS):
        raise TracingError(f"{WHERE}: {raw!r}; write a mapping of {', '.join(FIELDS)}")
    hot = raw.get("hot_paths") or {}
    if not isinstance(hot, dict) or any(not isinstance(p, str) or not p.startswith("/") for p in hot):
        raise TracingError(f"{WHERE}.hot_paths: {hot!r}; map path prefixes (starting with /) to their share")
    paths = tuple(sorted((p, _ratio(f"{WHERE}.hot_paths.{p}", r)) for p, r in hot.items()))
    return Tracing(_ratio(f"{WHERE}.sample_ratio", raw.get("sample_ratio", 0.001)), paths)
