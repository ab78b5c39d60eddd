"""The gateway's tables (schema "gateway": nonces shared by its replicas, orders queued under overload), its
degradation rules file, and its adapter to the user service."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import DateTime, MetaData, String, Text, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.gateway.domain import EndpointRule
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


class QueuedOrderRow(Base):
    __tablename__ = "queued_order"
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SqlOrderQueue:
    """Orders accepted while order creation is over its limit, placed later by the gateway's drainer."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, order_id: str, body: dict[str, Any], now: datetime) -> None:
        stmt = insert(QueuedOrderRow).values(order_id=order_id, body=json.dumps(body), queued_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=[QueuedOrderRow.order_id]))

    async def take(self) -> tuple[str, dict[str, Any]] | None:
        """The oldest queued order, locked for this transaction (replicas skip each other's)."""
        query = select(QueuedOrderRow).order_by(QueuedOrderRow.queued_at).limit(1).with_for_update(skip_locked=True)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else (row.order_id, json.loads(row.body))

    async def done(self, order_id: str) -> None:
        await self.session.execute(delete(QueuedOrderRow).where(QueuedOrderRow.order_id == order_id))

    async def holds(self, order_id: str) -> bool:
        return await self.session.get(QueuedOrderRow, order_id) is not None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerRule(_Strict):
    failures: int = Field(5, ge=1, le=1000, description="failures in a row that open the breaker")
    open_s: float = Field(10.0, gt=0, le=3600, description="seconds open before one trial call")


class EndpointRuleIn(_Strict):
    qps: float = Field(gt=0, description="requests per second this replica serves before falling back")
    burst: int = Field(ge=1, le=100_000)
    breaker: BreakerRule = BreakerRule()


class RulesFile(_Strict):
    """The degradation rules (design section 2.5). Endpoints: login (falls back to the cached profile),
    product (to the cached page), order_create (to the order queue)."""

    endpoints: dict[Literal["login", "product", "order_create"], EndpointRuleIn]


class RulesError(ValueError):
    """A rules file that cannot be used; the current rules stay in force."""


def load_rules(path: Path) -> dict[str, EndpointRule]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        rules = RulesFile.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as err:
        raise RulesError(f"{path}: {err}") from err
    return {
        name: EndpointRule(rule.qps, rule.burst, rule.breaker.failures, rule.breaker.open_s)
        for name, rule in rules.endpoints.items()
    }


class HttpUsers:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def register(self, openid: str, nickname: str) -> int:
        return (await self.upstream.request("POST", "/users", json={"openid": openid, "nickname": nickname}))["id"]
