"""The application factory every service uses: one ServiceSpec in, a FastAPI app (and its gRPC server) out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from prometheus_client import start_http_server
from sqlalchemy import MetaData

from miniapp_services.kit.db import Connection, Database
from miniapp_services.kit.edge import EdgeLimits, EdgeMiddleware
from miniapp_services.kit.errors import DomainError, refusals
from miniapp_services.kit.faults import FaultState, fault_router
from miniapp_services.kit.health import probe_router
from miniapp_services.kit.metrics import Metrics
from miniapp_services.kit.outbound import make_http_client
from miniapp_services.kit.registration import registered
from miniapp_services.kit.rpc import Clients, make_server
from miniapp_services.kit.settings import Settings
from miniapp_services.kit.stores import opened
from miniapp_services.kit.tasks import running
from miniapp_services.kit.tracing import Sampling, make_provider

GrpcRegistrar = Callable[[grpc.aio.Server, FastAPI], None]
# The edge middleware traces (with our sampler) and counts every request once. FastAPI's own telemetry
# would look up the global OpenTelemetry providers on every request: 10 % of the gateway's CPU, measured.
_NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceSpec:
    """What a service contributes: its HTTP routes, gRPC servicers, schema and required dependencies."""

    name: str
    summary: str
    router: Callable[[], APIRouter]
    metadata: MetaData
    migrations: Path
    grpc: GrpcRegistrar | None = None
    requires: tuple[str, ...] = field(default_factory=tuple)
    # Called but not gating readiness: the service degrades without them (cart shows unpriced lines).
    degrades_without: tuple[str, ...] = field(default_factory=tuple)
    background: Callable[[FastAPI], Coroutine[Any, Any, None]] | None = None
    # Checks and loads what the service reads from files at start (the gateway's tenants); a ValueError stops it.
    startup: Callable[[FastAPI], object] | None = None
    # Services called over HTTP (settings.upstreams); the gateway's way to reach the others.
    upstreams: tuple[str, ...] = field(default_factory=tuple)
    # The gateway names each request's tenant from the session it verifies; the others take their caller's.
    tenant_from_session: bool = False


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def transaction(request: Request) -> contextlib.AbstractAsyncContextManager[Connection]:
    """One database transaction for a request's statements that must hold together, committed before the
    response is written."""
    return _db(request).transaction()


def connection(request: Request) -> contextlib.AbstractAsyncContextManager[Connection]:
    """A database connection for the request's tenant: its statements are one transaction scoped to the tenant,
    committed when the block ends (kit.db)."""
    return _db(request).connection()


async def in_transaction(
    app: FastAPI, repository: Callable[[Connection], R], use_case: Callable[..., Awaitable[T]], *args: Any
) -> T:
    """Run an application use case in one transaction, outside a request (gRPC methods, background loops)."""
    async with app.state.db.transaction() as conn:
        return await use_case(repository(conn), *args)


async def on_connection(
    app: FastAPI, repository: Callable[[Connection], R], use_case: Callable[..., Awaitable[T]], *args: Any
) -> T:
    """Run a use case outside a request (gRPC reads, a job's look across tenants) on connection()."""
    async with app.state.db.connection() as conn:
        return await use_case(repository(conn), *args)


def create_app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    missing = [name for name in spec.requires + spec.degrades_without if name not in settings.dependencies]
    if missing:
        fix = ", ".join(f"MINIAPP_DEPENDENCIES__{name.upper()}=host:port" for name in missing)
        raise ValueError(f"dependencies: {spec.name} calls {missing} but has no target for them; set {fix}")
    unset = [name for name in spec.upstreams if name not in settings.upstreams]
    if unset:
        fix = ", ".join(f"MINIAPP_UPSTREAMS__{name.upper()}=http://host:port" for name in unset)
        raise ValueError(f"upstreams: {spec.name} calls {unset} over HTTP but has no URL for them; set {fix}")
    metrics = Metrics(spec.name, settings.version)
    sampling = Sampling(settings.trace_sample_ratio, settings.trace_hot_paths)
    endpoint = str(settings.otlp_traces_endpoint) if settings.otlp_traces_endpoint else None
    provider = make_provider(spec.name, settings.version, sampling, endpoint)
    tracer = provider.get_tracer("miniapp_services")
    faults = FaultState()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = await Database.open(settings)
        app.state.clients = Clients(settings.dependencies)
        app.state.http = make_http_client(settings.outbound_max_connections, settings.http_timeout_s)
        async with (
            opened(settings.stores, settings.outbound_max_connections) as app.state.stores,
            _grpc_serving(spec, app, settings),
            _metrics_serving(app, settings),
            _background(spec, app),
            registered(settings),
        ):
            yield
            app.state.draining = True
        await app.state.http.close()
        await app.state.clients.close()
        await app.state.db.close()
        await asyncio.to_thread(provider.shutdown)  # the last spans sent (bounded by the exporter's timeout)

    app = FastAPI(
        title=f"miniapp {spec.name}",
        summary=spec.summary,
        version=settings.version,
        lifespan=lifespan,
        telemetry=_NO_FASTAPI_TELEMETRY,
    )
    app.state.settings, app.state.metrics, app.state.tracer, app.state.faults = settings, metrics, tracer, faults
    app.state.draining = False
    if spec.startup is not None:
        spec.startup(app)
    app.include_router(probe_router(spec.requires))
    # Any operation may be refused by the edge before it runs (headers or body too large, overloaded) and by its
    # domain through the one exception handler below (bad input, an unknown id, a conflict, a dependency down).
    app.include_router(spec.router(), responses=refusals(400, 404, 409, 413, 431, 503))
    if settings.faults_enabled:
        app.include_router(fault_router())
    # Starlette types a handler as taking any Exception; ours takes the DomainError it is registered for.
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    limits = EdgeLimits(
        settings.max_concurrency,
        settings.max_body_bytes,
        settings.max_header_bytes,
        settings.request_log_ratio,
        tenant_from_caller=not spec.tenant_from_session,
    )
    app.add_middleware(EdgeMiddleware, limits=limits, metrics=metrics, faults=faults, tracer=tracer)
    return app


@contextlib.asynccontextmanager
async def _grpc_serving(spec: ServiceSpec, app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Serve the spec's gRPC servicers while the app runs; on shutdown say NOT_SERVING, then drain."""
    if spec.grpc is None:
        app.state.grpc_port = None
        yield
        return
    server, health_servicer, app.state.grpc_port = make_server(settings.grpc_port, settings.http_host)
    spec.grpc(server, app)
    await server.start()
    try:
        yield
    finally:
        await health_servicer.enter_graceful_shutdown()
        await server.stop(settings.shutdown_grace_s)


@contextlib.asynccontextmanager
async def _metrics_serving(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Serve /metrics on its own port, which the pod leaves outside the sidecar: Prometheus scrapes it
    without a mesh identity while the service ports stay STRICT mTLS."""
    if settings.metrics_port is None:
        app.state.metrics_port = None
        yield
        return
    server, thread = start_http_server(settings.metrics_port, addr="0.0.0.0", registry=app.state.metrics.registry)  # noqa: S104
    app.state.metrics_port = server.server_port
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.asynccontextmanager
async def _background(spec: ServiceSpec, app: FastAPI) -> AsyncIterator[None]:
    """Run the spec's background loop (e.g. notify's sender) for the app's lifetime; stop it on shutdown."""
    if spec.background is None:
        yield
        return
    async with running(spec.background(app), f"{spec.name}-background"):
        yield


async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    detail = {"msg": exc.message, **({"field": exc.field} if exc.field else {})}
    if exc.reason:
        detail["reason"] = exc.reason
    return JSONResponse({"detail": detail}, status_code=exc.status, headers=exc.headers())
