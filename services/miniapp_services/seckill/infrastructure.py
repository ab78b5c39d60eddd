"""Flash sale's tables (schema "seckill"): events with a remaining count, and one winner row per user."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection, claim_one
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.seckill.domain import Event


class Base(DeclarativeBase):
    metadata = MetaData(schema="seckill")


class EventRow(Tenanted, Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= stock", name="event_remaining_in_stock"),
        check("event"),
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WinnerRow(Tenanted, Base):
    __tablename__ = "winner"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant", "event_id"], ["seckill.event.tenant", "seckill.event.event_id"], name="winner_event_id_fkey"
        ),
        check("winner"),
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    won_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SqlSeckillRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def get(self, event_id: str) -> Event | None:
        row = await self.conn.fetchrow(
            """SELECT event_id, sku, price_cents, stock, remaining, starts_at, ends_at
            FROM seckill.event WHERE event_id = $1""",
            event_id,
        )
        return None if row is None else Event(*row.values())

    async def create(self, event: Event) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO seckill.event (event_id, sku, price_cents, stock, remaining, starts_at, ends_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1""",
            *vars(event).values(),
        )
        return inserted is not None

    async def claim(self, event_id: str, user_id: int, now: datetime) -> Literal["taken", "already", "none_left"]:
        winner = """INSERT INTO seckill.winner (event_id, user_id, won_at) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING RETURNING 1"""
        take = "UPDATE seckill.event SET remaining = remaining - 1 WHERE event_id = $1 AND remaining > 0 RETURNING 1"
        return (await claim_one(self.conn, winner, (event_id, user_id, now), take, (event_id,))).value
