"""OpenTelemetry spans with W3C traceparent carried in and out over HTTP headers and gRPC metadata, beside the
release tag and the tenant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from contextvars import ContextVar

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from miniapp_services.kit import tenancy

_PROPAGATOR = TraceContextTextMapPropagator()
# Carried hop by hop beside traceparent, so the mesh can route tagged traffic to canary subsets.
RELEASE_TAG = "x-release-tag"
current_release_tag: ContextVar[str | None] = ContextVar("current_release_tag", default=None)


def make_tracer(service: str, version: str, sample_ratio: float) -> trace.Tracer:
    """A tracer of this service's own provider (no exporter: ids feed logs and propagation).

    Head sampling: a trace that starts here is recorded with probability sample_ratio (decided from its
    id, so every service agrees); one that arrives follows its caller's decision. Unsampled requests
    still carry their trace id onwards, at the cost of a non-recording span.
    """
    resource = Resource.create({"service.name": service, "service.version": version})
    sampler = ParentBased(TraceIdRatioBased(sample_ratio))
    return TracerProvider(resource=resource, sampler=sampler).get_tracer("miniapp_services")


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
