"""The kubelet's prober, as the lab's stand-in runs it: an app container's liveness and readiness probes (httpGet
or tcpSocket), with their timing as the Deployment writes them, sent where Istio rewrites them to (the pod's
sidecar, port 15020, /app-health/<container>/livez or readyz, which answers for the app's path or its port), one
GET on a new connection each, as the kubelet sends it."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lab.mesh.compile import APP_HEALTH_PORT
from lab.mesh.listeners import APP_HEALTH_PATH

LIVEZ, READYZ = APP_HEALTH_PATH + "livez", APP_HEALTH_PATH + "readyz"


class Probe(BaseModel):
    """A probe's timing as the Deployment writes it, with the kubelet's defaults (what it checks is the sidecar's
    to know: lab/mesh/compile.py answers /app-health/app/livez and readyz from the app's path or port)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    period_s: float = Field(default=10, gt=0)
    timeout_s: float = Field(default=1, gt=0)
    failure_threshold: int = Field(default=3, ge=1)
    success_threshold: int = Field(default=1, ge=1)
    initial_delay_s: float = Field(default=0, ge=0)


FIELDS = {"periodSeconds": "period_s", "timeoutSeconds": "timeout_s", "failureThreshold": "failure_threshold",
          "successThreshold": "success_threshold", "initialDelaySeconds": "initial_delay_s"}  # fmt: skip


def probe_of(container: dict[str, Any], key: str) -> Probe | None:
    """A container's livenessProbe or readinessProbe (key), when it is an httpGet or a tcpSocket (the kinds
    Istio's rewrite and this stand-in run; an exec probe is not rewritten)."""
    probe = container.get(key, {})
    if "httpGet" not in probe and "tcpSocket" not in probe:
        return None
    return Probe.model_validate({ours: probe[theirs] for theirs, ours in FIELDS.items() if theirs in probe})


async def http_status(host: str, port: int, path: str) -> int:
    """A GET on a new connection, closed after, as the kubelet's prober sends one: the status line's code (0 when
    it is not HTTP). A raw request, not an HTTP client: 18 pods' probes every 5 or 10 s are the stand-in's
    steady cost."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        status = (await reader.readline()).split()
    finally:
        writer.close()
    return int(status[1]) if len(status) > 1 and status[0].startswith(b"HTTP/") and status[1].isdigit() else 0


async def passes(ip: str, path: str, timeout_s: float) -> bool:
    """One probe to the pod's sidecar: an answer from 200 to 399 within its timeout, as the kubelet counts a
    success."""
    try:
        async with asyncio.timeout(timeout_s):
            return 200 <= await http_status(ip, APP_HEALTH_PORT, path) < 400
    except (OSError, TimeoutError):
        return False
