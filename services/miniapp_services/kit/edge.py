"""The HTTP edge of every service, as one ASGI middleware: version header, trace context, release tag,
the tenant (from the mesh peer that called, except at the gateway, which names it from the session), concurrency
bound, body-size limit, fault injection, per-route metrics and sampled request logs.

It runs on every request, so it reads only the three headers it needs from the ASGI scope, and logs a
request only when it failed (5xx) or when it falls in the request_log_ratio sample.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

import orjson
from opentelemetry import context, trace
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miniapp_services.kit import tenancy, tracing
from miniapp_services.kit.errors import DomainError
from miniapp_services.kit.faults import FaultState
from miniapp_services.kit.metrics import Metrics

VERSION_HEADER = b"x-service-version"
# Probes, metrics and fault control must answer even when the service is saturated or faulted.
_EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/admin/")
_WANTED = {b"traceparent", b"tracestate", tracing.RELEASE_TAG.encode(), tenancy.HEADER.encode(), b"content-length"}
_log = logging.getLogger("miniapp_services.requests")
# The request state's key under which a service that admits sessions (the gateway) names the request's tenant;
# set only once the session is verified, so an unauthenticated appid header is never counted as a tenant's.
TENANT_STATE = "tenant"


@dataclass
class EdgeLimits:
    max_concurrency: int
    max_body_bytes: int
    max_header_bytes: int = 16 * 1024
    log_ratio: float = 0.001
    # Whether the tenant comes from the caller's header (every service behind the gateway) or from the session the
    # service verifies itself (the gateway: a client's header names nothing there).
    tenant_from_caller: bool = True


def _headers(scope: Scope) -> dict[str, str]:
    """The few request headers the edge uses (ASGI gives names lower-cased)."""
    return {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in _WANTED}


class EdgeMiddleware:
    def __init__(
        self, app: ASGIApp, *, limits: EdgeLimits, metrics: Metrics, faults: FaultState, tracer: trace.Tracer
    ) -> None:
        self.app, self.limits, self.metrics, self.faults, self.tracer = app, limits, metrics, faults, tracer
        self.version = metrics.version.encode()
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = scope["path"].startswith(_EXEMPT_PREFIXES)
        headers = _headers(scope)
        started, status, trace_id, sampled = time.perf_counter(), 500, None, False
        token = context.attach(tracing.extract(headers))
        tag_token = tracing.current_release_tag.set(headers.get(tracing.RELEASE_TAG))

        async def send_versioned(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (VERSION_HEADER, self.version)]
            await send(message)

        try:
            name = f"{scope['method']} {scope['path']}"
            with self.tracer.start_as_current_span(name, kind=trace.SpanKind.SERVER) as span:
                span_context = span.get_span_context()
                trace_id, sampled = format(span_context.trace_id, "032x"), span_context.trace_flags.sampled
                await self._serve(scope, receive, send_versioned, headers, exempt)
        finally:
            tracing.current_release_tag.reset(tag_token)
            context.detach(token)
            if not exempt:
                self._observe(scope, status, time.perf_counter() - started, trace_id, sampled)

    def _observe(self, scope: Scope, status: int, seconds: float, trace_id: str | None, sampled: bool) -> None:
        """Metrics for every request (a trace id as exemplar only where the trace is recorded); a log line for
        a server error, and for the sampled share of the rest."""
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe_http(route, scope["method"], status, seconds, trace_id if sampled else None)
        if tenant := scope.get("state", {}).get(TENANT_STATE):
            self.metrics.observe_tenant(tenant, status, seconds)
        if status >= 500 or random.random() < self.limits.log_ratio:  # noqa: S311  # a log sample, not a secret
            level = logging.ERROR if status >= 500 else logging.INFO
            extra = {"route": route, "method": scope["method"], "status": status, "ms": round(seconds * 1000, 1)}
            _log.log(level, "request", extra=extra | {"trace_id": trace_id})

    async def _serve(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], exempt: bool) -> None:
        if exempt:
            await self.app(scope, receive, send)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > self.limits.max_header_bytes:
            await _answer(send, 431, f"request headers larger than {self.limits.max_header_bytes} bytes together")
            return
        if int(headers.get("content-length") or 0) > self.limits.max_body_bytes:
            await _answer(send, 413, f"body larger than {self.limits.max_body_bytes} bytes")
            return
        if self.in_flight >= self.limits.max_concurrency:
            self.metrics.rejected.labels(self.metrics.service).inc()
            await _answer(send, 503, "overloaded: concurrency bound reached, retry later")
            return
        if not self.limits.tenant_from_caller:
            await self._admit(scope, receive, send)
            return
        try:
            tenant = tenancy.serving(headers.get(tenancy.HEADER))
        except DomainError as err:  # refused before the service does any work, as a malformed header should be
            await _answer(send, 400, err.message)
            return
        with tenant:
            await self._admit(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Within the concurrency bound, after any injected fault."""
        decision = self.faults.next()
        self.in_flight += 1
        self.metrics.in_flight.labels(self.metrics.service).set(self.in_flight)
        try:
            if decision.delay_s:
                await asyncio.sleep(decision.delay_s)
            if decision.status is not None:
                await _answer(send, decision.status, "injected fault")
                return
            await self.app(scope, _limited(receive, self.limits.max_body_bytes), send)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.labels(self.metrics.service).set(self.in_flight)


def _limited(receive: Receive, limit: int) -> Receive:
    """A receive that refuses a streamed body once it passes limit (Content-Length may be absent).

    HTTPException is what FastAPI lets through its body parsing, so the client gets 413, not 500.
    """
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        return message

    return wrapped


async def _answer(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
