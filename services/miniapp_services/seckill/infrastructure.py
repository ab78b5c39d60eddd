"""Flash sale's tables (schema "seckill"): events with a remaining count, and one winner row per user."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, MetaData, String, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import claim_one
from miniapp_services.seckill.domain import Event


class Base(DeclarativeBase):
    metadata = MetaData(schema="seckill")


class EventRow(Base):
    __tablename__ = "event"
    __table_args__ = (CheckConstraint("remaining >= 0 AND remaining <= stock", name="event_remaining_in_stock"),)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WinnerRow(Base):
    __tablename__ = "winner"
    event_id: Mapped[str] = mapped_column(ForeignKey("seckill.event.event_id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    won_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SqlSeckillRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, event_id: str) -> Event | None:
        row = await self.session.get(EventRow, event_id, populate_existing=True)
        if row is None:
            return None
        return Event(row.event_id, row.sku, row.price_cents, row.stock, row.remaining, row.starts_at, row.ends_at)

    async def create(self, event: Event) -> bool:
        result = await self.session.execute(insert(EventRow).values(**vars(event)).on_conflict_do_nothing())
        return result.rowcount == 1

    async def claim(self, event_id: str, user_id: int, now: datetime) -> Literal["taken", "already", "none_left"]:
        winner = insert(WinnerRow).values(event_id=event_id, user_id=user_id, won_at=now)
        take = (
            update(EventRow)
            .where(EventRow.event_id == event_id, EventRow.remaining > 0)
            .values(remaining=EventRow.remaining - 1)
        )
        return (await claim_one(self.session, winner, take)).value
