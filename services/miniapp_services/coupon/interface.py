"""Coupon's edge: HTTP for operators (templates), the mini-program (claim) and checkout (redeem)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.coupon import application as app_
from miniapp_services.coupon.domain import Template
from miniapp_services.coupon.infrastructure import SqlCouponRepository as Repo
from miniapp_services.kit.app import connection, transaction
from miniapp_services.kit.types import EntityId, EntityIdPath, Ident, IdentPath


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    discount_cents: int = Field(strict=True, ge=1, le=1_000_000)
    min_total_cents: int = Field(strict=True, ge=0, le=100_000_000)
    total: int = Field(strict=True, ge=1, le=10_000_000)


class TemplateOut(TemplateIn):
    code: str
    remaining: int


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Ident
    user_id: EntityId


class ClaimOut(BaseModel):
    code: str
    user_id: int
    order_id: str | None


class RedeemIn(ClaimIn):
    order_id: Ident
    order_total_cents: int = Field(strict=True, ge=1, le=10**12)


class RedeemOut(BaseModel):
    code: str
    order_id: str
    discount_cents: int


def router() -> APIRouter:
    api = APIRouter(tags=["coupon"])

    @api.put("/coupons/{code}", status_code=status.HTTP_201_CREATED)
    async def create(code: IdentPath, body: TemplateIn, request: Request) -> TemplateOut:
        async with connection(request) as conn:
            template = await app_.create(Repo(conn), Template(code=code, remaining=body.total, **body.model_dump()))
        return TemplateOut(**vars(template))

    @api.post("/claims", status_code=status.HTTP_201_CREATED)
    async def claim(body: ClaimIn, request: Request) -> ClaimOut:
        async with connection(request) as conn:
            return ClaimOut(**vars(await app_.claim(Repo(conn), body.code, body.user_id)))

    @api.get("/claims/{user_id}")
    async def held(user_id: EntityIdPath, request: Request) -> list[ClaimOut]:
        async with connection(request) as conn:
            return [ClaimOut(**vars(c)) for c in await app_.held(Repo(conn), user_id)]

    @api.post("/redemptions")
    async def redeem(body: RedeemIn, request: Request) -> RedeemOut:
        async with transaction(request) as conn:
            cut = await app_.redeem(Repo(conn), body.code, body.user_id, body.order_id, body.order_total_cents)
        return RedeemOut(code=body.code, order_id=body.order_id, discount_cents=cut)

    return api
