"""Flash sale's edge: HTTP for operators (create) and the mini-program (attempt)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import connection
from miniapp_services.kit.types import EntityId, Ident, IdentPath, Instant
from miniapp_services.seckill import application as app_
from miniapp_services.seckill import domain
from miniapp_services.seckill.domain import Event
from miniapp_services.seckill.infrastructure import SqlSeckillRepository as Repo


def now() -> datetime:
    """The service's clock; a dependency so tests can move it."""
    return datetime.now(UTC)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Ident
    price_cents: int = Field(strict=True, ge=1, le=10_000_000)
    stock: int = Field(strict=True, ge=1, le=1_000_000)
    starts_at: Instant
    ends_at: Instant


class EventOut(BaseModel):
    event_id: str
    sku: str
    price_cents: int
    stock: int
    remaining: int
    starts_at: datetime
    ends_at: datetime


class AttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: EntityId


class WinOut(BaseModel):
    event_id: str
    user_id: int
    sku: str
    price_cents: int
    remaining: int


def router() -> APIRouter:
    api = APIRouter(tags=["seckill"])

    @api.put("/seckill/events/{event_id}", status_code=status.HTTP_201_CREATED)
    async def create(event_id: IdentPath, body: EventIn, request: Request) -> EventOut:
        event = domain.new_event(event_id, body.sku, body.price_cents, body.stock, body.starts_at, body.ends_at)
        async with connection(request) as conn:
            created = await app_.create_event(Repo(conn), event)
        request.app.state.metrics.stock_left(event_id, created.remaining, restock=True)
        return EventOut(**vars(created))

    @api.get("/seckill/events/{event_id}")
    async def get(event_id: IdentPath, request: Request) -> EventOut:
        async with connection(request) as conn:
            return EventOut(**vars(await app_.get_event(Repo(conn), event_id)))

    @api.post("/seckill/events/{event_id}/attempts", status_code=status.HTTP_201_CREATED)
    async def attempt(
        event_id: IdentPath, body: AttemptIn, request: Request, at: Annotated[datetime, Depends(now)]
    ) -> WinOut:
        async with connection(request) as conn:
            event: Event = await app_.attempt(Repo(conn), event_id, body.user_id, at)
        request.app.state.metrics.count("seckill_success")
        request.app.state.metrics.stock_left(event_id, event.remaining)
        return WinOut(
            event_id=event_id,
            user_id=body.user_id,
            sku=event.sku,
            price_cents=event.price_cents,
            remaining=event.remaining,
        )

    return api
