"""Order's tables (schema "order"), its repository and the gRPC adapters to inventory and to pay's saga
stream."""

from __future__ import annotations

from datetime import datetime

import grpc
from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, Index, Integer, MetaData, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit import tracing
from miniapp_services.kit.db import Connection
from miniapp_services.kit.errors import Unavailable
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.kit.rpc import call
from miniapp_services.order.domain import IN_SAGA, Line, Order, Owned, Status
from miniapp_services.proto import inventory_pb2, inventory_pb2_grpc, pay_pb2, pay_pb2_grpc


class Base(DeclarativeBase):
    metadata = MetaData(schema="order")


class OrderRow(Tenanted, Base):
    __tablename__ = "order"
    __table_args__ = (
        check("order"),
        Index(
            "ix_order_order_unpaid_pay_by",
            "pay_by",
            postgresql_where=text("status = 'pending_payment' AND pay_by IS NOT NULL"),
        ),
    )
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(String(64))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    pay_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LineRow(Tenanted, Base):
    __tablename__ = "line"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant", "order_id"], ["order.order.tenant", "order.order.order_id"], name="line_order_id_fkey"
        ),
        check("line"),
    )
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)


# An order with its lines in one round trip (lines as [sku, quantity, unit price] ordered by sku).
_GET = """SELECT o.order_id, o.user_id, o.status, o.payment_id, o.pay_by,
    (SELECT jsonb_agg(jsonb_build_array(l.sku, l.quantity, l.unit_price_cents) ORDER BY l.sku)
     FROM "order".line l WHERE l.order_id = o.order_id) AS lines
    FROM "order"."order" o WHERE o.order_id = $1"""
# Insert or move an order in one statement: lines never change, so a saved order's lines are a no-op.
_SAVE = """WITH saved AS (
    INSERT INTO "order"."order" (order_id, user_id, status, payment_id, total_cents, pay_by)
    VALUES ($1, $2, $3, $4, $5, $9)
    ON CONFLICT (order_id, tenant) DO UPDATE SET status = EXCLUDED.status, payment_id = EXCLUDED.payment_id
    RETURNING order_id)
    INSERT INTO "order".line (order_id, sku, quantity, unit_price_cents)
    SELECT saved.order_id, l.sku, l.quantity, l.price
    FROM saved, unnest($6::text[], $7::int[], $8::bigint[]) AS l(sku, quantity, price)
    ON CONFLICT DO NOTHING"""

_PAST_DEADLINE = """SELECT tenant, order_id FROM "order"."order"
    WHERE status = 'pending_payment' AND pay_by <= $1 ORDER BY pay_by LIMIT $2"""


class SqlOrderRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        row = await self.conn.fetchrow(_GET + " FOR UPDATE OF o" if for_update else _GET, order_id)
        if row is None:
            return None
        lines = tuple(Line(sku, quantity, price) for sku, quantity, price in row["lines"] or ())
        return Order(row["order_id"], row["user_id"], lines, Status(row["status"]), row["payment_id"], row["pay_by"])

    async def save(self, order: Order) -> None:
        lines = order.lines
        await self.conn.execute(
            _SAVE,
            order.order_id,
            order.user_id,
            order.status.value,
            order.payment_id,
            order.total_cents,
            [x.sku for x in lines],
            [x.quantity for x in lines],
            [x.unit_price_cents for x in lines],
            order.pay_by,
        )

    async def in_saga(self) -> list[Owned]:
        """Orders a checkout left between steps (CHARGING or COMPENSATING), with their tenants: read across
        tenants (tenancy.EVERY) by the recovery."""
        states = [s.value for s in IN_SAGA]
        query = 'SELECT tenant, order_id FROM "order"."order" WHERE status = ANY($1::text[])'
        return [(row["tenant"], row["order_id"]) for row in await self.conn.fetch(query, states)]

    async def past_deadline(self, now: datetime, limit: int) -> list[Owned]:
        """Unpaid orders due by now, the longest overdue first (the partial index holds only unpaid ones), with their
        tenants: read across tenants by the expiry sweep."""
        rows = await self.conn.fetch(_PAST_DEADLINE, now, limit)
        return [(row["tenant"], row["order_id"]) for row in rows]


class GrpcPayments:
    """Payments.Settle: one stream per checkout; each step written, then its answer read."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub, self.timeout_s = pay_pb2_grpc.PaymentsStub(channel), timeout_s

    async def _step(self, step: pay_pb2.SettleStep) -> pay_pb2.SettleResult:
        try:
            stream = self.stub.Settle(timeout=self.timeout_s, metadata=tuple(tracing.outgoing_metadata()))
            await stream.write(step)
            await stream.done_writing()
            result = await stream.read()
        except grpc.aio.AioRpcError as err:
            raise Unavailable(f"pay did not answer the saga step: {err.code().name}") from err
        if result is grpc.aio.EOF:
            raise Unavailable("pay closed the saga stream without an answer")
        settled: pay_pb2.SettleResult = result
        return settled

    async def charge(self, order_id: str, amount_cents: int) -> tuple[str, str, str]:
        step = pay_pb2.SettleStep(
            order_id=order_id, idempotency_key=order_id, charge=pay_pb2.Charge(amount_cents=amount_cents)
        )
        result = await self._step(step)
        return result.outcome, result.payment_id, result.reason

    async def refund(self, order_id: str) -> str:
        step = pay_pb2.SettleStep(order_id=order_id, idempotency_key=order_id, refund=pay_pb2.Refund())
        return (await self._step(step)).outcome


class GrpcStock:
    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub, self.timeout_s = inventory_pb2_grpc.InventoryStub(channel), timeout_s

    async def reserve(self, order_id: str, sku: str, quantity: int) -> None:
        request = inventory_pb2.ReserveRequest(order_id=order_id, sku=sku, quantity=quantity)
        await call(self.stub.Reserve, request, self.timeout_s)

    async def release(self, order_id: str) -> None:
        await call(self.stub.Release, inventory_pb2.ReservationRef(order_id=order_id), self.timeout_s)

    async def commit(self, order_id: str) -> None:
        await call(self.stub.Commit, inventory_pb2.ReservationRef(order_id=order_id), self.timeout_s)
