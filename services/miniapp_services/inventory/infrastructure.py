"""Inventory's tables (schema "inventory") and its repository."""

from __future__ import annotations

from asyncpg import Record
from sqlalchemy import BigInteger, CheckConstraint, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.inventory.domain import Reservation, State, Stock
from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check


class Base(DeclarativeBase):
    metadata = MetaData(schema="inventory")


class StockRow(Tenanted, Base):
    __tablename__ = "stock"
    __table_args__ = (
        CheckConstraint("available >= 0 AND reserved >= 0 AND committed >= 0", name="stock_nonnegative"),
        check("stock"),
    )
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    committed: Mapped[int] = mapped_column(BigInteger, default=0)


class ReservationRow(Tenanted, Base):
    __tablename__ = "reservation"
    __table_args__ = (check("reservation"),)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))


def _reservation(row: Record) -> Reservation:
    return Reservation(row["order_id"], row["sku"], row["quantity"], State(row["state"]))


class SqlInventoryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def stock(self, sku: str, *, for_update: bool = False) -> Stock | None:
        query = "SELECT sku, available, reserved, committed FROM inventory.stock WHERE sku = $1"
        row = await self.conn.fetchrow(query + " FOR UPDATE" if for_update else query, sku)
        return None if row is None else Stock(*row.values())

    async def save_stock(self, stock: Stock) -> None:
        await self.conn.execute(
            """INSERT INTO inventory.stock (sku, available, reserved, committed) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant, sku) DO UPDATE SET available = EXCLUDED.available, reserved = EXCLUDED.reserved,
            committed = EXCLUDED.committed""",
            stock.sku,
            stock.available,
            stock.reserved,
            stock.committed,
        )

    async def reservation(self, order_id: str, sku: str) -> Reservation | None:
        row = await self.conn.fetchrow(
            """SELECT order_id, sku, quantity, state FROM inventory.reservation
            WHERE order_id = $1 AND sku = $2 FOR UPDATE""",
            order_id,
            sku,
        )
        return None if row is None else _reservation(row)

    async def reservations(self, order_id: str) -> list[Reservation]:
        rows = await self.conn.fetch(
            """SELECT order_id, sku, quantity, state FROM inventory.reservation
            WHERE order_id = $1 ORDER BY sku FOR UPDATE""",
            order_id,
        )
        return [_reservation(row) for row in rows]

    async def save_reservation(self, reservation: Reservation) -> None:
        await self.conn.execute(
            """INSERT INTO inventory.reservation (order_id, sku, quantity, state) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant, order_id, sku) DO UPDATE SET quantity = EXCLUDED.quantity, state = EXCLUDED.state""",
            reservation.order_id,
            reservation.sku,
            reservation.quantity,
            reservation.state.value,
        )
