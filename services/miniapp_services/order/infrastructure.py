"""Order's tables (schema "order"), the SQLAlchemy repository and the gRPC adapters to inventory and to pay's
saga stream."""

from __future__ import annotations

import grpc
from sqlalchemy import BigInteger, ForeignKey, Integer, MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

from miniapp_services.kit import tracing
from miniapp_services.kit.errors import Unavailable
from miniapp_services.kit.rpc import call
from miniapp_services.order.domain import IN_SAGA, Line, Order, Status
from miniapp_services.proto import inventory_pb2, inventory_pb2_grpc, pay_pb2, pay_pb2_grpc


class Base(DeclarativeBase):
    metadata = MetaData(schema="order")


class OrderRow(Base):
    __tablename__ = "order"
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(String(64))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[LineRow]] = relationship(cascade="all, delete-orphan", order_by="LineRow.sku")


class LineRow(Base):
    __tablename__ = "line"
    order_id: Mapped[str] = mapped_column(ForeignKey("order.order.order_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)


class SqlOrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        query = select(OrderRow).where(OrderRow.order_id == order_id).options(selectinload(OrderRow.lines))
        row = (await self.session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()
        if row is None:
            return None
        lines = tuple(Line(x.sku, x.quantity, x.unit_price_cents) for x in row.lines)
        return Order(row.order_id, row.user_id, lines, Status(row.status), row.payment_id)

    async def save(self, order: Order) -> None:
        row = await self.session.get(OrderRow, order.order_id)
        if row is None:
            lines = [LineRow(sku=x.sku, quantity=x.quantity, unit_price_cents=x.unit_price_cents) for x in order.lines]
            row = OrderRow(order_id=order.order_id, user_id=order.user_id, total_cents=order.total_cents, lines=lines)
            self.session.add(row)
        row.status, row.payment_id = order.status.value, order.payment_id

    async def in_saga(self) -> list[str]:
        """Orders a checkout left between steps (CHARGING or COMPENSATING)."""
        states = [s.value for s in IN_SAGA]
        return list((await self.session.scalars(select(OrderRow.order_id).where(OrderRow.status.in_(states)))).all())


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
        return result

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
