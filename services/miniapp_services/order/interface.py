"""Order's edges: HTTP for the mini-program (place, show, cancel), gRPC for pay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, FastAPI, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.clients.order import Lines
from miniapp_services.clients.product import GrpcCatalogue
from miniapp_services.kit import tenancy
from miniapp_services.kit.app import connection, in_transaction, on_connection, transaction
from miniapp_services.kit.errors import Conflict, DomainError, NotFound
from miniapp_services.kit.rpc import rpc
from miniapp_services.kit.types import EntityId, Ident, IdentPath
from miniapp_services.order import application as app_
from miniapp_services.order.domain import Order, Owned, Status
from miniapp_services.order.infrastructure import GrpcPayments, GrpcStock
from miniapp_services.order.infrastructure import SqlOrderRepository as Repo
from miniapp_services.proto import order_pb2, order_pb2_grpc

RECOVERY_S = 2.0
# How often unpaid orders are looked for past their deadline, at most (a short deadline is swept 4 times over),
# and how many one sweep expires before it looks again.
EXPIRY_SWEEP_S = 5.0
EXPIRY_BATCH = 100
_log = logging.getLogger(__name__)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Annotated[Ident, Field(description="chosen by the client; a retry with the same id is safe")]
    user_id: EntityId
    lines: Lines


class LineOut(BaseModel):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    order_id: str
    user_id: int
    lines: list[LineOut]
    total_cents: int
    status: Status
    payment_id: str | None
    pay_by: datetime | None = Field(description="unpaid by then, the order is cancelled; none: no deadline")


def _out(o: Order) -> OrderOut:
    lines = [LineOut(**vars(x)) for x in o.lines]
    return OrderOut(
        order_id=o.order_id,
        user_id=o.user_id,
        lines=lines,
        total_cents=o.total_cents,
        status=o.status,
        payment_id=o.payment_id,
        pay_by=o.pay_by,
    )


def _ports(app: FastAPI) -> tuple[GrpcCatalogue, GrpcStock]:
    clients, timeout = app.state.clients, app.state.settings.http_timeout_s
    return GrpcCatalogue(clients.channel("product"), timeout), GrpcStock(clients.channel("inventory"), timeout)


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_cents: int = Field(strict=True, ge=1, le=10**12)
    user_id: EntityId | None = Field(
        default=None, description="the paying user (the gateway's session): another user's order is not found"
    )


def _payments(app: FastAPI) -> GrpcPayments:
    return GrpcPayments(app.state.clients.channel("pay"), app.state.settings.http_timeout_s)


def _tx(app: FastAPI) -> app_.Tx:
    async def run(use_case: Any, *args: Any) -> Any:
        return await in_transaction(app, Repo, use_case, *args)

    return run


async def recover(app: FastAPI) -> None:
    """Finish checkouts left between steps (a crash, a broken stream): an order seen in the saga on two
    scans in a row is resumed; every step it repeats is idempotent."""
    seen: set[Owned] = set()
    while True:
        await asyncio.sleep(RECOVERY_S)
        try:
            with tenancy.every():
                stuck = set(await on_connection(app, Repo, _in_saga))
            for tenant, order_id in sorted(stuck & seen):
                with tenancy.serving(tenant), contextlib.suppress(DomainError):
                    await app_.checkout(_tx(app), _ports(app)[1], _payments(app), order_id)
            seen = stuck
        except Exception:
            _log.exception("saga recovery round failed")


async def _in_saga(repo: Repo) -> list[Owned]:
    return await repo.in_saga()


def _deadline(app: FastAPI) -> timedelta | None:
    seconds = app.state.settings.payment_deadline_s
    return None if seconds is None else timedelta(seconds=seconds)


async def expire_unpaid(app: FastAPI) -> None:
    """Cancel orders unpaid past their deadline and release their stock. Stateless, so a restarted or second
    replica finds the same orders; each is expired under its row lock, so two sweeps expire it once. The sweep
    reads across tenants and expires each order under its own tenant."""
    deadline = _deadline(app)
    if deadline is None:
        return
    stock = _ports(app)[1]
    while True:
        await asyncio.sleep(min(EXPIRY_SWEEP_S, deadline.total_seconds() / 4))
        try:
            now = datetime.now(UTC)
            with tenancy.every():
                due = await on_connection(app, Repo, _past_deadline, now)
            for tenant, order_id in due:
                with tenancy.serving(tenant):
                    expired = await in_transaction(app, Repo, app_.expire, stock, order_id, now)
                if expired:
                    app.state.metrics.count("order_expired")
        except Exception:
            _log.exception("unpaid-order expiry round failed")


async def _past_deadline(repo: Repo, now: datetime) -> list[Owned]:
    return await repo.past_deadline(now, EXPIRY_BATCH)


async def background(app: FastAPI) -> None:
    """The saga's recovery and the payment deadline's expiry, side by side for the app's lifetime."""
    await asyncio.gather(recover(app), expire_unpaid(app))


def router() -> APIRouter:
    api = APIRouter(tags=["order"])

    @api.post("/orders", status_code=status.HTTP_201_CREATED)
    async def place(body: OrderIn, request: Request, response: Response) -> OrderOut:
        wanted: dict[str, int] = {}
        for line in body.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        async with connection(request) as conn:
            ports, placed_at = _ports(request.app), datetime.now(UTC)
            order, placed = await app_.place(
                Repo(conn), *ports, body.order_id, body.user_id, wanted, placed_at, _deadline(request.app)
            )
        if placed:
            request.app.state.metrics.count("order_created")
        else:
            response.status_code = status.HTTP_200_OK
        return _out(order)

    @api.post("/orders/{order_id}/checkout", status_code=status.HTTP_201_CREATED)
    async def checkout(order_id: IdentPath, body: CheckoutIn, request: Request, response: Response) -> OrderOut:
        """Pay for the order through the saga: 201 newly paid, 200 paid already, 409 refused (cancelled)."""
        app = request.app
        order = await on_connection(app, Repo, app_.get_order, order_id)
        if body.user_id is not None and order.user_id != body.user_id:
            raise NotFound(f"no order {order_id!r}", field="order_id")  # existence is not leaked
        if body.amount_cents != order.total_cents:
            raise Conflict(
                f"amount {body.amount_cents} differs from the order total {order.total_cents}", field="amount_cents"
            )
        done, newly = await app_.checkout(_tx(app), _ports(app)[1], _payments(app), order_id)
        if done.status is Status.CANCELLED:
            raise Conflict(f"order {order_id} was not paid and is cancelled; its stock is released", field="order_id")
        if newly:
            app.state.metrics.count("order_paid")
        else:
            response.status_code = status.HTTP_200_OK
        return _out(done)

    @api.get("/orders/{order_id}")
    async def get_order(order_id: IdentPath, request: Request) -> OrderOut:
        async with connection(request) as conn:
            return _out(await app_.get_order(Repo(conn), order_id))

    @api.post("/orders/{order_id}/cancel")
    async def cancel(order_id: IdentPath, request: Request) -> OrderOut:
        async with transaction(request) as conn:
            return _out(await app_.cancel(Repo(conn), _ports(request.app)[1], order_id))

    return api


def _pb(o: Order) -> order_pb2.Order:
    return order_pb2.Order(
        order_id=o.order_id,
        user_id=o.user_id,
        total_cents=o.total_cents,
        status=o.status.value,
        payment_id=o.payment_id or "",
    )


def register_grpc(server: grpc.aio.Server, app: FastAPI) -> None:
    traced = rpc(app.state.metrics, app.state.tracer)

    class Servicer(order_pb2_grpc.OrdersServicer):
        @traced
        async def GetOrder(self, request: Any, context: Any) -> order_pb2.Order:
            return _pb(await on_connection(app, Repo, app_.get_order, request.order_id))

        @traced
        async def MarkPaid(self, request: Any, context: Any) -> order_pb2.Order:
            stock = _ports(app)[1]
            paid, newly = await in_transaction(app, Repo, app_.mark_paid, stock, request.order_id, request.payment_id)
            if newly:
                app.state.metrics.count("order_paid")
            return _pb(paid)

    order_pb2_grpc.add_OrdersServicer_to_server(Servicer(), server)
