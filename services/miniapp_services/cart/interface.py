"""Cart's edge: HTTP for the mini-program's cart page."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.cart import application as app_
from miniapp_services.cart.domain import total_cents
from miniapp_services.cart.infrastructure import SqlCartRepository as Repo
from miniapp_services.clients.product import GrpcCatalogue
from miniapp_services.kit.app import connection
from miniapp_services.kit.types import EntityIdPath, IdentPath


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(strict=True, ge=0, le=99, description="0 removes the line")


class ItemOut(BaseModel):
    sku: str
    quantity: int
    unit_price_cents: int | None


class CartOut(BaseModel):
    user_id: int
    items: list[ItemOut]
    total_cents: int | None
    degraded: bool = Field(description="true when prices are missing because the catalogue did not answer")


def _catalogue(request: Request) -> GrpcCatalogue:
    state = request.app.state
    return GrpcCatalogue(state.clients.channel("product"), state.settings.http_timeout_s)


def router() -> APIRouter:
    api = APIRouter(tags=["cart"])

    @api.get("/carts/{user_id}")
    async def show(user_id: EntityIdPath, request: Request) -> CartOut:
        async with connection(request) as conn:
            items, degraded = await app_.show(Repo(conn), _catalogue(request), user_id)
        lines = [ItemOut(**vars(item)) for item in items]
        return CartOut(user_id=user_id, items=lines, total_cents=total_cents(items), degraded=degraded)

    @api.put("/carts/{user_id}/items/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def set_quantity(user_id: EntityIdPath, sku: IdentPath, body: QuantityIn, request: Request) -> None:
        async with connection(request) as conn:
            await app_.set_quantity(Repo(conn), _catalogue(request), user_id, sku, body.quantity)

    @api.delete("/carts/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def clear(user_id: EntityIdPath, request: Request) -> None:
        async with connection(request) as conn:
            await app_.clear(Repo(conn), user_id)

    return api
