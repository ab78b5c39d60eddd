"""User's table (schema "user") and the SQLAlchemy repository."""

from __future__ import annotations

from sqlalchemy import BigInteger, Identity, MetaData, String, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.user.domain import User


class Base(DeclarativeBase):
    metadata = MetaData(schema="user")


class UserRow(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    nickname: Mapped[str] = mapped_column(String(32))


def _user(row: UserRow | None) -> User | None:
    return None if row is None else User(row.id, row.openid, row.nickname)


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id(self, user_id: int) -> User | None:
        return _user(await self.session.get(UserRow, user_id))

    async def by_openid(self, openid: str) -> User | None:
        return _user((await self.session.execute(select(UserRow).where(UserRow.openid == openid))).scalar_one_or_none())

    async def add(self, user: User) -> User:
        """Insert; a concurrent first login of the same openid returns the row that won."""
        insert_ = insert(UserRow).values(openid=user.openid, nickname=user.nickname).on_conflict_do_nothing()
        await self.session.execute(insert_)
        found = await self.by_openid(user.openid)
        if found is None:
            raise RuntimeError(f"user {user.openid} neither inserted nor found")
        return found
