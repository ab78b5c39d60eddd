"""The gateway's nonce table (schema "gateway"), shared by its replicas, and its adapter to the user service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, MetaData, String, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.outbound import Upstream


class Base(DeclarativeBase):
    metadata = MetaData(schema="gateway")


class NonceRow(Base):
    __tablename__ = "nonce"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SqlNonceStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, key: str, now: datetime, expires_at: datetime) -> bool:
        """One statement, so two replicas racing for the same nonce cannot both win; an expired holder
        gives the key up."""
        stmt = insert(NonceRow).values(key=key, expires_at=expires_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[NonceRow.key], set_={"expires_at": expires_at}, where=NonceRow.expires_at < now
        ).returning(NonceRow.key)
        return (await self.session.execute(stmt)).first() is not None

    async def purge(self, now: datetime) -> int:
        done = await self.session.execute(delete(NonceRow).where(NonceRow.expires_at < now))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]


class HttpUsers:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def register(self, openid: str, nickname: str) -> int:
        return (await self.upstream.request("POST", "/users", json={"openid": openid, "nickname": nickname}))["id"]
