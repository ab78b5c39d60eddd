"""OpenTelemetry spans with W3C traceparent carried in and out over HTTP headers and gRPC metadata, beside the
release tag and the tenant; exported over OTLP/HTTP (to Grafana Tempo at a site) when an endpoint is set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from miniapp_services.kit import tenancy

_PROPAGATOR = TraceContextTextMapPropagator()
# Carried hop by hop beside traceparent, so the mesh can route tagged traffic to canary subsets.
RELEASE_TAG = "x-release-tag"
current_release_tag: ContextVar[str | None] = ContextVar("current_release_tag", default=None)
EXPORT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Sampling:
    """Head sampling of the traces a service starts: `ratio` of them, or the ratio of the longest path prefix in
    `hot_paths` that the request's path starts with (the design: 1:10 on hot paths such as payments, 1:1000 on
    the rest). A trace that arrives keeps its caller's decision (parent-based), so every hop agrees."""

    ratio: float
    hot_paths: Mapping[str, float] = field(default_factory=dict)


class _ByPath(Sampler):
    """A root span's sampler by the path in its name ('METHOD /path', as the edge names them)."""

    def __init__(self, sampling: Sampling) -> None:
        self._default = TraceIdRatioBased(sampling.ratio)
        hot = sorted(sampling.hot_paths.items(), key=lambda item: -len(item[0]))
        self._hot = [(prefix, TraceIdRatioBased(ratio)) for prefix, ratio in hot]

    def should_sample(  # the SDK's signature
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        path = name.partition(" ")[2]
        chosen = next((s for prefix, s in self._hot if path.startswith(prefix)), self._default)
        return chosen.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"ByPath{{{self._default.get_description()}, {[(p, s.rate) for p, s in self._hot]}}}"


def make_provider(service: str, version: str, sampling: Sampling, endpoint: str | None = None) -> TracerProvider:
    """This service's tracer provider: parent-based head sampling by path, and with an endpoint each recorded
    span batched off the request path and sent over OTLP/HTTP (protobuf). Without one, spans are only ids for
    logs, exemplars and propagation. Unsampled requests still carry their trace id onwards, at the cost of a
    non-recording span."""
    resource = Resource.create({"service.name": service, "service.version": version})
    provider = TracerProvider(resource=resource, sampler=ParentBased(_ByPath(sampling)))
    if endpoint:
        # Imported only where spans leave the process: a service without a trace backend does not load it.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint, timeout=EXPORT_TIMEOUT_S)))
    return provider


def extract(carrier: Mapping[str, str]) -> context.Context:
    """The remote parent context named by a traceparent header in carrier, if any."""
    return _PROPAGATOR.extract(carrier={k.lower(): v for k, v in carrier.items()})


def inject(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add traceparent for the current span to carrier (HTTP headers or gRPC metadata)."""
    _PROPAGATOR.inject(carrier)
    return carrier


def outgoing(carrier: dict[str, str]) -> dict[str, str]:
    """Add what a call onwards carries to carrier: traceparent, the request's release tag and its tenant."""
    inject(carrier)
    if release_tag := current_release_tag.get():
        carrier[RELEASE_TAG] = release_tag
    if tenant := tenancy.current.get():
        carrier[tenancy.HEADER] = tenant
    return carrier


def outgoing_metadata() -> list[tuple[str, str]]:
    """gRPC metadata for a call made inside the current span (outgoing)."""
    return list(outgoing({}).items())


def metadata_dict(metadata: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str]:
    """gRPC invocation metadata as a str dict (binary entries dropped)."""
    return {k: v for k, v in (metadata or ()) if isinstance(v, str)}
