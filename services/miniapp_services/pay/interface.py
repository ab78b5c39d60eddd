"""Pay's edges: HTTP for a direct pay step, and Payments.Settle, the order saga's stream (the payment provider
is simulated here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from fastapi import APIRouter, FastAPI, Request, Response, status
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit import tenancy, tracing
from miniapp_services.kit.app import connection, in_transaction, on_connection
from miniapp_services.kit.errors import DomainError
from miniapp_services.kit.types import Ident, IdentPath
from miniapp_services.pay import application as app_
from miniapp_services.pay.domain import Payment, PaymentStatus
from miniapp_services.pay.infrastructure import GrpcOrders
from miniapp_services.pay.infrastructure import SqlPaymentRepository as Repo
from miniapp_services.proto import pay_pb2, pay_pb2_grpc


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    amount_cents: int = Field(strict=True, ge=1, le=10**12)


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
        async with connection(request) as conn:
            payment, charged = await app_.pay(Repo(conn), orders, body.order_id, body.amount_cents)
        if not charged:
            response.status_code = status.HTTP_200_OK
        return _out(payment)

    @api.get("/payments/{order_id}")
    async def get_payment(order_id: IdentPath, request: Request) -> PaymentOut:
        async with connection(request) as conn:
            return _out(await app_.get_payment(Repo(conn), order_id))

    return api


def _out(p: Payment) -> PaymentOut:
    return PaymentOut(order_id=p.order_id, payment_id=p.payment_id, amount_cents=p.amount_cents, status=p.status)


def register_grpc(server: grpc.aio.Server, app: FastAPI) -> None:
    """Payments.Settle: one transaction per step, answered in order on the same stream."""

    class Servicer(pay_pb2_grpc.PaymentsServicer):
        async def Settle(self, requests: AsyncIterator[Any], context: Any) -> AsyncIterator[pay_pb2.SettleResult]:
            carrier = tracing.metadata_dict(context.invocation_metadata())
            try:
                tenant = tenancy.serving(carrier.get(tenancy.HEADER))
            except DomainError as err:  # a stream has no rpc() wrapper to turn it into a status
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, err.message)
            # The stream continues the caller's trace (the order saga's), as rpc() does for a unary method; each
            # step is a span of its own under it.
            tracer: trace.Tracer = app.state.tracer
            stream = tracer.start_as_current_span(
                "Payments.Settle", context=tracing.extract(carrier), kind=trace.SpanKind.SERVER
            )
            with tenant, stream:
                async for step in requests:
                    # The fault endpoint (when enabled) delays and fails saga steps as it does HTTP requests.
                    if app.state.settings.faults_enabled:
                        fault = app.state.faults.next()
                        await asyncio.sleep(fault.delay_s)
                        if fault.status is not None:
                            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault")
                    with tracer.start_as_current_span(f"Payments.Settle {step.WhichOneof('action')}"):
                        settled = await _settle(app, step)
                    yield settled

    pay_pb2_grpc.add_PaymentsServicer_to_server(Servicer(), server)


async def _settle(app: FastAPI, step: Any) -> pay_pb2.SettleResult:
    result = pay_pb2.SettleResult(order_id=step.order_id, idempotency_key=step.idempotency_key)
    action = step.WhichOneof("action")
    try:
        if action == "charge":
            outcome, payment, reason = await on_connection(
                app, Repo, app_.saga_charge, step.order_id, step.charge.amount_cents
            )
            result.outcome, result.reason = outcome, reason
            result.payment_id = payment.payment_id if payment else ""
        elif action == "refund":
            payment = await in_transaction(app, Repo, app_.saga_refund, step.order_id)
            result.outcome, result.payment_id = "refunded", payment.payment_id if payment else ""
        else:
            result.outcome, result.reason = "refused", "a step must be a charge or a refund"
    except DomainError as err:
        result.outcome, result.reason = "refused", err.message
    app.state.metrics.grpc.labels("pay", app.state.settings.version, f"Settle.{action}", result.outcome).inc()
    return result
