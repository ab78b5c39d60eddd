"""Cart's table (schema "cart") and its repository."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.cart.domain import Item
from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check


class Base(DeclarativeBase):
    metadata = MetaData(schema="cart")


class ItemRow(Tenanted, Base):
    __tablename__ = "item"
    __table_args__ = (check("item"),)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class SqlCartRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def items(self, user_id: int) -> list[Item]:
        rows = await self.conn.fetch("SELECT sku, quantity FROM cart.item WHERE user_id = $1 ORDER BY sku", user_id)
        return [Item(row["sku"], row["quantity"]) for row in rows]

    async def put(self, user_id: int, item: Item) -> None:
        await self.conn.execute(
            """INSERT INTO cart.item (user_id, sku, quantity) VALUES ($1, $2, $3)
            ON CONFLICT (tenant, user_id, sku) DO UPDATE SET quantity = EXCLUDED.quantity""",
            user_id,
            item.sku,
            item.quantity,
        )

    async def remove(self, user_id: int, sku: str) -> None:
        await self.conn.execute("DELETE FROM cart.item WHERE user_id = $1 AND sku = $2", user_id, sku)

    async def clear(self, user_id: int) -> None:
        await self.conn.execute("DELETE FROM cart.item WHERE user_id = $1", user_id)
