"""Fault injection for the load suite: fail a fraction of requests with a 5xx or delay them, or hang the
whole process (its event loop blocked: nothing answers, its probes included), as a deadlock would.

Mounted only when settings.faults_enabled is true; the decision is a pure function of the spec and a draw.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

HANG_AFTER_S, HANG_S = 0.2, 3600


class FaultSpec(BaseModel):
    """What to inject into this replica's HTTP requests (admin paths are never affected)."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="fraction of requests answered with status")
    status: int = Field(strict=True, default=503, ge=500, le=599, description="the 5xx status to answer with")
    delay_ms: int = Field(strict=True, default=0, ge=0, le=30_000, description="latency added to every request")
    hang: bool = Field(default=False, description="block the event loop for an hour, right after answering")


@dataclass(frozen=True)
class FaultDecision:
    delay_s: float
    status: int | None


def decide(spec: FaultSpec, draw: float) -> FaultDecision:
    """The fault for one request, given a uniform draw in [0, 1)."""
    status = spec.status if draw < spec.error_rate else None
    return FaultDecision(delay_s=spec.delay_ms / 1000, status=status)


@dataclass
class FaultState:
    spec: FaultSpec = field(default_factory=FaultSpec)
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> FaultDecision:
        return decide(self.spec, self.rng.random())


def fault_router() -> APIRouter:
    router = APIRouter(prefix="/admin/faults", tags=["admin"])

    def state(request: Request) -> FaultState:
        faults: FaultState = request.app.state.faults
        return faults

    @router.get("")
    async def current(request: Request) -> FaultSpec:
        return state(request).spec

    @router.put("")
    async def replace(spec: FaultSpec, request: Request) -> FaultSpec:
        state(request).spec = spec
        if spec.hang:
            # After this answer has left: the process then answers nothing until it is killed (its liveness
            # probe's work); SIGTERM's handler cannot run either, so only the grace period's SIGKILL ends it.
            asyncio.get_running_loop().call_later(HANG_AFTER_S, time.sleep, HANG_S)
        return spec

    @router.delete("")
    async def clear(request: Request) -> FaultSpec:
        state(request).spec = FaultSpec()
        return state(request).spec

    return router
