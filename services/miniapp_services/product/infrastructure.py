"""Product's table (schema "product", described for its migrations) and the repository over asyncpg."""

from __future__ import annotations

from asyncpg import Record
from sqlalchemy import BigInteger, Boolean, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.product.domain import Product


class Base(DeclarativeBase):
    metadata = MetaData(schema="product")


class ProductRow(Tenanted, Base):
    __tablename__ = "product"
    __table_args__ = (check("product"),)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(64), index=True)
    on_sale: Mapped[bool] = mapped_column(Boolean)


def _product(row: Record) -> Product:
    return Product(row["sku"], row["title"], row["price_cents"], row["category"], row["on_sale"])


class SqlProductRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, sku: str) -> Product | None:
        row = await self.conn.fetchrow(
            "SELECT sku, title, price_cents, category, on_sale FROM product.product WHERE sku = $1", sku
        )
        return None if row is None else _product(row)

    async def save(self, product: Product) -> None:
        await self.conn.execute(
            """INSERT INTO product.product (sku, title, price_cents, category, on_sale) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant, sku) DO UPDATE SET title = EXCLUDED.title, price_cents = EXCLUDED.price_cents,
            category = EXCLUDED.category, on_sale = EXCLUDED.on_sale""",
            *vars(product).values(),
        )

    async def list(self, category: str | None, limit: int, after: str | None) -> list[Product]:
        """One prepared statement for every filter: a missing filter is NULL and matches everything."""
        rows = await self.conn.fetch(
            """SELECT sku, title, price_cents, category, on_sale FROM product.product
            WHERE on_sale AND ($1::text IS NULL OR category = $1) AND ($2::text IS NULL OR sku > $2)
            ORDER BY sku LIMIT $3""",
            category,
            after,
            limit,
        )
        return [_product(row) for row in rows]
