"""The gateway's session table (schema "gateway") and its adapter to the user service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, MetaData, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.gateway.domain import Session
from miniapp_services.kit.outbound import Upstream


class Base(DeclarativeBase):
    metadata = MetaData(schema="gateway")


class SessionRow(Base):
    __tablename__ = "session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    openid: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, s: Session) -> None:
        self.session.add(SessionRow(**vars(s)))

    async def get(self, token_hash: str) -> Session | None:
        row = await self.session.get(SessionRow, token_hash)
        return None if row is None else Session(row.token_hash, row.user_id, row.openid, row.expires_at)


class HttpUsers:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def register(self, openid: str, nickname: str) -> int:
        return (await self.upstream.request("POST", "/users", json={"openid": openid, "nickname": nickname}))["id"]
