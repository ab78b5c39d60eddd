"""Check-in's table (schema "checkin") and the SQLAlchemy repository."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, MetaData, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.checkin.domain import CheckIn


class Base(DeclarativeBase):
    metadata = MetaData(schema="checkin")


class CheckInRow(Base):
    __tablename__ = "checkin"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)


class SqlCheckInRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def days(self, user_id: int, since: date) -> list[date]:
        query = select(CheckInRow.day).where(CheckInRow.user_id == user_id, CheckInRow.day >= since)
        return list((await self.session.execute(query)).scalars())

    async def add(self, checkin: CheckIn) -> bool:
        """Insert; False when the user already has a row for that day (a concurrent double tap)."""
        result = await self.session.execute(insert(CheckInRow).values(**vars(checkin)).on_conflict_do_nothing())
        return result.rowcount == 1
