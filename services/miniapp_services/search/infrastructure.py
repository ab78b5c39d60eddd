"""Search's index (schema "search"): PostgreSQL full-text search over a generated tsvector column."""

from __future__ import annotations

from sqlalchemy import Computed, Index, MetaData, String, delete, func, select
from sqlalchemy.dialects.postgresql import TSVECTOR, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.search.domain import Document, Hit

# 'simple' keeps words as written: product titles mix languages, so no stemming dictionary fits all.
_CONFIG = "simple"


class Base(DeclarativeBase):
    metadata = MetaData(schema="search")


class DocumentRow(Base):
    __tablename__ = "document"
    __table_args__ = (Index("ix_search_document_words", "words", postgresql_using="gin"),)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(64), index=True)
    words: Mapped[str] = mapped_column(TSVECTOR, Computed(f"to_tsvector('{_CONFIG}', title)", persisted=True))


class SqlSearchIndex:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, document: Document) -> None:
        values = vars(document)
        upsert = insert(DocumentRow).values(**values)
        await self.session.execute(upsert.on_conflict_do_update(index_elements=["sku"], set_=values))

    async def remove(self, sku: str) -> bool:
        return (await self.session.execute(delete(DocumentRow).where(DocumentRow.sku == sku))).rowcount == 1

    async def query(self, words: str, category: str | None, limit: int) -> list[Hit]:
        tsquery = func.plainto_tsquery(_CONFIG, words)
        rank = func.ts_rank(DocumentRow.words, tsquery).label("rank")
        query = select(DocumentRow.sku, DocumentRow.title, DocumentRow.category, rank).where(
            DocumentRow.words.op("@@")(tsquery)
        )
        if category is not None:
            query = query.where(DocumentRow.category == category)
        rows = await self.session.execute(query.order_by(rank.desc(), DocumentRow.sku).limit(limit))
        return [Hit(r.sku, r.title, r.category, float(r.rank)) for r in rows]
