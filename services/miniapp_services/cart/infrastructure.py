"""Cart's table (schema "cart") and its repository."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData, String, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.cart.domain import Item


class Base(DeclarativeBase):
    metadata = MetaData(schema="cart")


class ItemRow(Base):
    __tablename__ = "item"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class SqlCartRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def items(self, user_id: int) -> list[Item]:
        query = select(ItemRow).where(ItemRow.user_id == user_id).order_by(ItemRow.sku)
        return [Item(row.sku, row.quantity) for row in (await self.session.execute(query)).scalars()]

    async def put(self, user_id: int, item: Item) -> None:
        upsert = insert(ItemRow).values(user_id=user_id, sku=item.sku, quantity=item.quantity)
        await self.session.execute(
            upsert.on_conflict_do_update(index_elements=["user_id", "sku"], set_={"quantity": item.quantity})
        )

    async def remove(self, user_id: int, sku: str) -> None:
        await self.session.execute(delete(ItemRow).where(ItemRow.user_id == user_id, ItemRow.sku == sku))

    async def clear(self, user_id: int) -> None:
        await self.session.execute(delete(ItemRow).where(ItemRow.user_id == user_id))
