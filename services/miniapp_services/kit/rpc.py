"""gRPC plumbing: the server with the standard health service, pooled client channels to dependencies,
and the decorator that gives each servicer method trace context, release tag, tenant, metrics and error codes.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import context, trace
from pydantic import ValidationError

from miniapp_services.kit import tenancy, tracing
from miniapp_services.kit.errors import Conflict, DomainError, NotFound, Unavailable
from miniapp_services.kit.metrics import Metrics

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
Reply = TypeVar("Reply")


def rpc(metrics: Metrics, tracer: trace.Tracer) -> Callable[[Handler], Handler]:
    """Wrap a servicer method(request, context): continue the caller's trace, map DomainError to a status."""

    def decorate(method: Handler) -> Handler:
        @functools.wraps(method)
        async def wrapped(self: object, request: object, ctx: grpc.aio.ServicerContext[Any, Any]) -> object:
            carrier = tracing.metadata_dict(ctx.invocation_metadata())
            token = context.attach(tracing.extract(carrier))
            tag_token = tracing.current_release_tag.set(carrier.get(tracing.RELEASE_TAG))
            code = "OK"
            try:
                with (
                    tracer.start_as_current_span(method.__qualname__, kind=trace.SpanKind.SERVER),
                    tenancy.serving(carrier.get(tenancy.HEADER)),
                ):
                    return await method(self, request, ctx)
            except DomainError as err:
                code = err.grpc_code
                await ctx.abort(getattr(grpc.StatusCode, err.grpc_code), err.message)
            except ValidationError as err:
                code = "INVALID_ARGUMENT"
                await ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, describe(err))
            except Exception:
                code = "INTERNAL"  # grpc.aio answers an unhandled error with UNKNOWN; count it as a server error
                raise
            finally:
                tracing.current_release_tag.reset(tag_token)
                context.detach(token)
                metrics.grpc.labels(metrics.service, metrics.version, method.__name__, code).inc()

        return wrapped  # type: ignore[return-value]  # wraps keeps the signature; mypy cannot see it through wraps

    return decorate


def describe(err: ValidationError) -> str:
    """A validation error as one line naming each field at fault and what it must be."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in err.errors())


def make_server(port: int, host: str) -> tuple[grpc.aio.Server, health.aio.HealthServicer, int]:
    """A grpc.aio server with the health service; returns it with the port actually bound (port 0 picks one)."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    return server, health_servicer, bound


_ERRORS_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: Conflict,
    grpc.StatusCode.INVALID_ARGUMENT: DomainError,
}


async def call(method: Callable[..., Awaitable[Reply]], request: object, timeout_s: float) -> Reply:
    """Call a dependency inside the current trace with its release tag; its refusal becomes our DomainError."""
    try:
        return await method(request, metadata=tracing.outgoing_metadata(), timeout=timeout_s)
    except grpc.aio.AioRpcError as err:
        error = _ERRORS_BY_CODE.get(err.code(), Unavailable)
        raise error(f"{err.code().name.lower()} from dependency: {err.details()}") from err


class Clients:
    """One channel per dependency for the process's lifetime (HTTP/2 connection reuse)."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self.channels = {name: grpc.aio.insecure_channel(target) for name, target in targets.items()}

    def channel(self, name: str) -> grpc.aio.Channel:
        if name not in self.channels:
            raise DomainError(f"no gRPC target configured for {name!r}: set MINIAPP_DEPENDENCIES__{name.upper()}")
        return self.channels[name]

    async def serving(self, name: str, timeout_s: float) -> bool:
        """Whether the dependency's health service says SERVING within timeout_s."""
        stub = health_pb2_grpc.HealthStub(self.channel(name))
        try:
            # types-grpcio-health-checking's HealthStub omits the methods grpcio generates on it.
            check = stub.Check  # type: ignore[attr-defined]
            reply = await check(health_pb2.HealthCheckRequest(service=""), timeout=timeout_s)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
