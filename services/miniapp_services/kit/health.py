"""Liveness and readiness: /healthz says the process runs; /readyz checks the database and dependencies."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

_DEPENDENCY_TIMEOUT_S = 0.3


def probe_router(required: tuple[str, ...]) -> APIRouter:
    router = APIRouter(tags=["probes"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "not ready: the checks say which dependency failed"}})
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks: dict[str, str] = {}
        try:
            await state.db.ping()
            checks["database"] = "ok"
        except Exception as err:  # any failure means not ready; the reason is reported
            checks["database"] = f"failed: {type(err).__name__}"
        for name in required:
            checks[name] = "ok" if await state.clients.serving(name, _DEPENDENCY_TIMEOUT_S) else "not serving"
        ready = all(v == "ok" for v in checks.values()) and not state.draining
        return JSONResponse({"ready": ready, "draining": state.draining, "checks": checks}, 200 if ready else 503)

    @router.get("/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
