"""A stand-in for a trace backend's OTLP/HTTP receiver (Grafana Tempo's, which cannot run here): on loopback, it
takes what an OpenTelemetry exporter POSTs to /v1/traces (protobuf ExportTraceServiceRequest) and keeps each
span's ids, name, kind and service, for tests to read. It stores and answers nothing else."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PATH = "/v1/traces"


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a trace's root
    name: str
    kind: int  # OTLP's SpanKind: 2 server, 3 client
    service: str


@dataclass
class Received:
    """What the receiver took so far, in arrival order; the endpoint to give an exporter."""

    endpoint: str
    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        found = []
        for resource in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                service = attributes.get("service.name", "")
                ids = ((s, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex()) for s in scope.spans)
                found += [Span(t, i, p, s.name, s.kind, service) for s, t, i, p in ids]
        with self.lock:
            self.spans += found

    def of_trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@contextlib.contextmanager
def receiver() -> Iterator[Received]:
    """Serve on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    received = Received(f"http://127.0.0.1:{server.server_address[1]}{PATH}")
    server.received = received  # type: ignore[attr-defined]  # the handler's way back to it
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # http.server's name
        if self.path != PATH or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_error(404 if self.path != PATH else 415)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.take(body)  # type: ignore[attr-defined]
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:  # http.server's signature
        """Quiet: the tests read the spans, not the requests."""
