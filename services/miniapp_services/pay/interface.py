"""Pay's edge: HTTP for the mini-program's pay step (the payment provider is simulated here)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import transaction
from miniapp_services.kit.types import Ident, IdentPath
from miniapp_services.pay import application as app_
from miniapp_services.pay.domain import Payment, PaymentStatus
from miniapp_services.pay.infrastructure import GrpcOrders
from miniapp_services.pay.infrastructure import SqlPaymentRepository as Repo


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    amount_cents: int = Field(ge=1, le=10**12)


class PaymentOut(BaseModel):
    order_id: str
    payment_id: str
    amount_cents: int
    status: PaymentStatus


def router() -> APIRouter:
    api = APIRouter(tags=["pay"])

    @api.post("/payments", status_code=status.HTTP_201_CREATED)
    async def pay(body: PayIn, request: Request, response: Response) -> PaymentOut:
        orders = GrpcOrders(request.app.state.clients.channel("order"), request.app.state.settings.http_timeout_s)
        async with transaction(request) as session:
            payment, charged = await app_.pay(Repo(session), orders, body.order_id, body.amount_cents)
        if not charged:
            response.status_code = status.HTTP_200_OK
        return _out(payment)

    @api.get("/payments/{order_id}")
    async def get_payment(order_id: IdentPath, request: Request) -> PaymentOut:
        async with transaction(request) as session:
            return _out(await app_.get_payment(Repo(session), order_id))

    return api


def _out(p: Payment) -> PaymentOut:
    return PaymentOut(order_id=p.order_id, payment_id=p.payment_id, amount_cents=p.amount_cents, status=p.status)
