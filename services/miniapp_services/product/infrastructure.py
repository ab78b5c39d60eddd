"""Product's table (schema "product") and the SQLAlchemy repository."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, MetaData, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.product.domain import Product


class Base(DeclarativeBase):
    metadata = MetaData(schema="product")


class ProductRow(Base):
    __tablename__ = "product"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(64), index=True)
    on_sale: Mapped[bool] = mapped_column(Boolean)


def _product(row: ProductRow) -> Product:
    return Product(row.sku, row.title, row.price_cents, row.category, row.on_sale)


class SqlProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, sku: str) -> Product | None:
        row = await self.session.get(ProductRow, sku)
        return None if row is None else _product(row)

    async def save(self, product: Product) -> None:
        await self.session.merge(ProductRow(**vars(product)))

    async def list(self, category: str | None, limit: int, after: str | None) -> list[Product]:
        query = select(ProductRow).where(ProductRow.on_sale.is_(True)).order_by(ProductRow.sku).limit(limit)
        if category is not None:
            query = query.where(ProductRow.category == category)
        if after is not None:
            query = query.where(ProductRow.sku > after)
        return [_product(row) for row in (await self.session.execute(query)).scalars()]
