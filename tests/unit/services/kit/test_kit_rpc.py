"""gRPC context both ways: call() sends traceparent, the release tag and the tenant; rpc() continues them, and
refuses a call that names no tenant."""

import asyncio

import grpc
import pytest
from conftest import TENANT_A

from miniapp_services.kit import tenancy, tracing
from miniapp_services.kit.errors import Conflict, DomainError, NotFound, Unavailable
from miniapp_services.kit.logs import trace_ids
from miniapp_services.kit.metrics import Metrics
from miniapp_services.kit.rpc import call, make_server, rpc

METHOD = "/test.Echo/Echo"


class Echo:
    def __init__(self, metrics: Metrics) -> None:
        self.handle = rpc(metrics, tracing.make_provider("search", "v1", tracing.Sampling(1.0)).get_tracer("t"))(
            Echo.respond
        )

    async def respond(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"missing":
            raise NotFound("no such thing", field="id")
        if request == b"taken":
            raise Conflict("already there")
        trace_id, _ = trace_ids()
        return f"{trace_id}|{tracing.current_release_tag.get()}|{tenancy.current.get()}".encode()


async def _roundtrip(request: bytes, timeout: float = 2, tenant: str | None = TENANT_A) -> tuple[bytes, str]:
    metrics = Metrics("search", "v1")
    echo = Echo(metrics)
    server, _, port = make_server(0, "127.0.0.1")

    async def serve(req: bytes, ctx: grpc.aio.ServicerContext) -> bytes:
        return await echo.handle(echo, req, ctx)

    handler = grpc.unary_unary_rpc_method_handler(serve)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", {"Echo": handler}),))
    await server.start()
    tracer = tracing.make_provider("gateway", "v1", tracing.Sampling(1.0)).get_tracer("t")
    token = tracing.current_release_tag.set("canary")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = channel.unary_unary(METHOD)
            with tracer.start_as_current_span("caller"):
                sent_trace, _ = trace_ids()
                tenant_token = tenancy.current.set(tenant)
                try:
                    reply = await call(stub, request, timeout)
                finally:
                    tenancy.current.reset(tenant_token)
    finally:
        tracing.current_release_tag.reset(token)
        await server.stop(0)
    return reply, sent_trace


def test_callee_continues_the_callers_trace_and_release_tag() -> None:
    reply, sent_trace = asyncio.run(_roundtrip(b"hello"))
    assert reply.decode() == f"{sent_trace}|canary|{TENANT_A}"


@pytest.mark.parametrize("tenant", [None, tenancy.EVERY])  # no caller may name the jobs' scope
def test_a_call_naming_no_tenant_is_refused_naming_the_header(tenant: str | None) -> None:
    with pytest.raises(DomainError, match=tenancy.HEADER):
        asyncio.run(_roundtrip(b"hello", tenant=tenant))


@pytest.mark.parametrize(
    ("request_", "error", "words"), [(b"missing", NotFound, "no such thing"), (b"taken", Conflict, "already there")]
)
def test_callee_refusal_becomes_the_callers_domain_error(request_: bytes, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        asyncio.run(_roundtrip(request_))


def test_unreachable_dependency_is_unavailable() -> None:
    async def unreachable() -> None:
        async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
            await call(channel.unary_unary(METHOD), b"x", 0.5)

    with pytest.raises(Unavailable):
        asyncio.run(unreachable())
