"""Check-in's table (schema "checkin") and its repository."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.checkin.domain import CheckIn
from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check


class Base(DeclarativeBase):
    metadata = MetaData(schema="checkin")


class CheckInRow(Tenanted, Base):
    __tablename__ = "checkin"
    __table_args__ = (check("checkin"),)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)


class SqlCheckInRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def days(self, user_id: int, since: date) -> list[date]:
        rows = await self.conn.fetch("SELECT day FROM checkin.checkin WHERE user_id = $1 AND day >= $2", user_id, since)
        return [row["day"] for row in rows]

    async def add(self, checkin: CheckIn) -> bool:
        """Insert; False when the user already has a row for that day (a concurrent double tap)."""
        inserted = await self.conn.fetchval(
            """INSERT INTO checkin.checkin (user_id, day, streak, points) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING RETURNING 1""",
            checkin.user_id,
            checkin.day,
            checkin.streak,
            checkin.points,
        )
        return inserted is not None
