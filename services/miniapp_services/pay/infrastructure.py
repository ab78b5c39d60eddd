"""Pay's table (schema "pay"), its repository and the gRPC adapter to order."""

from __future__ import annotations

import grpc
from sqlalchemy import BigInteger, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.kit.rpc import call
from miniapp_services.pay.domain import Payment, PaymentStatus
from miniapp_services.proto import order_pb2, order_pb2_grpc


class Base(DeclarativeBase):
    metadata = MetaData(schema="pay")


class PaymentRow(Tenanted, Base):
    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("tenant", "payment_id", name="payment_payment_id_key"), check("payment"))
    # One row per order: the primary key is what makes a double charge impossible.
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))


class SqlPaymentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, order_id: str) -> Payment | None:
        row = await self.conn.fetchrow(
            "SELECT order_id, payment_id, amount_cents, status FROM pay.payment WHERE order_id = $1", order_id
        )
        return None if row is None else Payment(row[0], row[1], row[2], PaymentStatus(row[3]))

    async def add(self, payment: Payment) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO pay.payment (order_id, payment_id, amount_cents, status) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING RETURNING 1""",
            payment.order_id,
            payment.payment_id,
            payment.amount_cents,
            payment.status.value,
        )
        return inserted is not None

    async def set_status(self, order_id: str, status: PaymentStatus) -> None:
        await self.conn.execute("UPDATE pay.payment SET status = $2 WHERE order_id = $1", order_id, status.value)


class GrpcOrders:
    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub, self.timeout_s = order_pb2_grpc.OrdersStub(channel), timeout_s

    async def get(self, order_id: str) -> order_pb2.Order:
        return await call(self.stub.GetOrder, order_pb2.OrderRef(order_id=order_id), self.timeout_s)

    async def mark_paid(self, order_id: str, payment_id: str) -> None:
        request = order_pb2.MarkPaidRequest(order_id=order_id, payment_id=payment_id)
        await call(self.stub.MarkPaid, request, self.timeout_s)
