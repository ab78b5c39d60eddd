"""Inventory's tables (schema "inventory") and the SQLAlchemy repository."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Integer, MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.inventory.domain import Reservation, State, Stock


class Base(DeclarativeBase):
    metadata = MetaData(schema="inventory")


class StockRow(Base):
    __tablename__ = "stock"
    __table_args__ = (CheckConstraint("available >= 0 AND reserved >= 0 AND committed >= 0", name="stock_nonnegative"),)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    committed: Mapped[int] = mapped_column(BigInteger, default=0)


class ReservationRow(Base):
    __tablename__ = "reservation"
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))


def _reservation(row: ReservationRow) -> Reservation:
    return Reservation(row.order_id, row.sku, row.quantity, State(row.state))


class SqlInventoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stock(self, sku: str, *, for_update: bool = False) -> Stock | None:
        query = select(StockRow).where(StockRow.sku == sku)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()
        return None if row is None else Stock(row.sku, row.available, row.reserved, row.committed)

    async def save_stock(self, stock: Stock) -> None:
        await self.session.merge(StockRow(**vars(stock)))

    async def reservation(self, order_id: str, sku: str) -> Reservation | None:
        row = await self.session.get(ReservationRow, (order_id, sku), with_for_update=True)
        return None if row is None else _reservation(row)

    async def reservations(self, order_id: str) -> list[Reservation]:
        query = select(ReservationRow).where(ReservationRow.order_id == order_id).order_by(ReservationRow.sku)
        return [_reservation(row) for row in (await self.session.execute(query.with_for_update())).scalars()]

    async def save_reservation(self, reservation: Reservation) -> None:
        await self.session.merge(ReservationRow(**{**vars(reservation), "state": reservation.state.value}))
