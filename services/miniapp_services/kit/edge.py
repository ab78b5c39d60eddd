"""The HTTP edge of every service, as one ASGI middleware: version header, trace context, release tag,
concurrency bound, body-size limit, fault injection and per-route metrics.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from opentelemetry import context, trace
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miniapp_services.kit import tracing
from miniapp_services.kit.faults import FaultState
from miniapp_services.kit.metrics import Metrics

VERSION_HEADER = b"x-service-version"
# Probes, metrics and fault control must answer even when the service is saturated or faulted.
_EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/admin/")


@dataclass
class EdgeLimits:
    max_concurrency: int
    max_body_bytes: int


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
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        started, status, trace_id = time.perf_counter(), 500, None
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
                trace_id = format(span.get_span_context().trace_id, "032x")
                await self._serve(scope, receive, send_versioned, headers, exempt)
        finally:
            tracing.current_release_tag.reset(tag_token)
            context.detach(token)
            if not exempt:
                route = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.observe_http(route, scope["method"], status, time.perf_counter() - started, trace_id)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], exempt: bool) -> None:
        if exempt:
            await self.app(scope, receive, send)
            return
        if int(headers.get("content-length") or 0) > self.limits.max_body_bytes:
            await _answer(send, 413, f"body larger than {self.limits.max_body_bytes} bytes")
            return
        if self.in_flight >= self.limits.max_concurrency:
            self.metrics.rejected.labels(self.metrics.service).inc()
            await _answer(send, 503, "overloaded: concurrency bound reached, retry later")
            return
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
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
