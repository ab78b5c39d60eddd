"""Search's index (schema "search"): PostgreSQL full-text search over a generated tsvector column."""

from __future__ import annotations

from sqlalchemy import Computed, Index, MetaData, String
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection, affected
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.search.domain import Document, Hit

# 'simple' keeps words as written: product titles mix languages, so no stemming dictionary fits all.
_CONFIG = "simple"


class Base(DeclarativeBase):
    metadata = MetaData(schema="search")


class DocumentRow(Tenanted, Base):
    __tablename__ = "document"
    __table_args__ = (Index("ix_search_document_words", "words", postgresql_using="gin"), check("document"))
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(64), index=True)
    words: Mapped[str] = mapped_column(TSVECTOR, Computed(f"to_tsvector('{_CONFIG}', title)", persisted=True))


class SqlSearchIndex:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def put(self, document: Document) -> None:
        await self.conn.execute(
            """INSERT INTO search.document (sku, title, category) VALUES ($1, $2, $3)
            ON CONFLICT (tenant, sku) DO UPDATE SET title = EXCLUDED.title, category = EXCLUDED.category""",
            document.sku,
            document.title,
            document.category,
        )

    async def remove(self, sku: str) -> bool:
        return affected(await self.conn.execute("DELETE FROM search.document WHERE sku = $1", sku)) == 1

    async def query(self, words: str, category: str | None, limit: int) -> list[Hit]:
        """Best matches first; one prepared statement with or without the category (NULL matches all)."""
        rows = await self.conn.fetch(
            """SELECT sku, title, category, ts_rank(words, q) AS rank
            FROM search.document, plainto_tsquery('simple', $1) AS q
            WHERE words @@ q AND ($2::text IS NULL OR category = $2)
            ORDER BY rank DESC, sku LIMIT $3""",
            words,
            category,
            limit,
        )
        return [Hit(r["sku"], r["title"], r["category"], float(r["rank"])) for r in rows]
