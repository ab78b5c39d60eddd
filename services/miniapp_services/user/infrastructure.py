"""User's table (schema "user") and its repository."""

from __future__ import annotations

from asyncpg import Record
from sqlalchemy import BigInteger, Identity, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.user.domain import User


class Base(DeclarativeBase):
    metadata = MetaData(schema="user")


class UserRow(Tenanted, Base):
    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("tenant", "openid", name="user_openid_key"), check("user"))
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(32))


def _user(row: Record | None) -> User | None:
    return None if row is None else User(row["id"], row["openid"], row["nickname"])


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def by_id(self, user_id: int) -> User | None:
        return _user(await self.conn.fetchrow('SELECT id, openid, nickname FROM "user"."user" WHERE id = $1', user_id))

    async def by_openid(self, openid: str) -> User | None:
        query = 'SELECT id, openid, nickname FROM "user"."user" WHERE openid = $1'
        return _user(await self.conn.fetchrow(query, openid))

    async def add(self, user: User) -> User:
        """Insert; a concurrent first login of the same openid returns the row that won."""
        await self.conn.execute(
            'INSERT INTO "user"."user" (openid, nickname) VALUES ($1, $2) ON CONFLICT DO NOTHING',
            user.openid,
            user.nickname,
        )
        found = await self.by_openid(user.openid)
        if found is None:
            raise RuntimeError(f"user {user.openid} neither inserted nor found")
        return found
