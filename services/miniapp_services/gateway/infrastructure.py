"""The gateway's replay guard (nonces in Redis, shared by its replicas), its table (schema "gateway": orders
queued under overload), its degradation rules file, and its adapter to the user service."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis
from sqlalchemy import DateTime, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.gateway.domain import Claim, EndpointRule, Nonce, TenantRate
from miniapp_services.kit.db import Connection
from miniapp_services.kit.outbound import Upstream


class Base(DeclarativeBase):
    metadata = MetaData(schema="gateway")


# The tenant's limiter and the replay guard as one Redis script (one round trip per signed request), so that
# no check and its claim can interleave with another replica's. The limiter is GCRA (the generic cell rate
# algorithm): one key per tenant holds the theoretical arrival time of its next request, so every replica draws
# on one bucket whatever their number. A request over the rate is refused before its nonce is claimed, so the
# client may send it again after the wait. A guard that lost its memory (restarted) cannot tell whether a request
# signed before then was seen. KEYS: the nonce, the guard's epoch (when its memory began), the tenant's bucket;
# ARGV: signed at (Unix s), keep (ms), the tenant's interval between requests and its burst tolerance (µs).
# Returns {outcome, wait (µs)}: outcome 0 fresh, 1 seen, 2 unknown, 3 limited.
_CLAIM = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now_us)
local next_tat = tat + tonumber(ARGV[3])
local wait_us = next_tat - now_us - tonumber(ARGV[4])
if wait_us > 0 then return {3, math.ceil(wait_us)} end
redis.call('SET', KEYS[3], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now_us) / 1000) + 1)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = now[1]
  redis.call('SET', KEYS[2], epoch)
end
if tonumber(ARGV[1]) < tonumber(epoch) then return {2, 0} end
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then return {0, 0} end
return {1, 0}
"""
_OUTCOMES = (Nonce.FRESH, Nonce.SEEN, Nonce.UNKNOWN, Nonce.LIMITED)


class RedisNonceStore:
    """Nonces and tenants' buckets as Redis keys that expire by themselves, shared by every gateway replica (the
    store runs with noeviction: full, it refuses writes rather than forget nonces)."""

    def __init__(self, client: Redis) -> None:
        self.claim_script = client.register_script(_CLAIM)

    async def claim(self, key: str, signed_at: int, keep_s: float, rate: TenantRate) -> Claim:
        keep_ms = max(int(keep_s * 1000), 1)
        interval_us = 1_000_000 / rate.per_s
        # A changed limit starts a bucket of its own: the old one's debt (at the old rate) expires unused.
        keys = [f"nonce:{key}", "nonce:epoch", f"rate:{rate.tenant}:{rate.per_s:g}:{rate.burst}"]
        outcome, wait_us = await self.claim_script(
            keys=keys, args=[signed_at, keep_ms, interval_us, interval_us * rate.burst]
        )
        return Claim(_OUTCOMES[int(outcome)], int(wait_us) / 1_000_000)


class QueuedOrderRow(Base):
    __tablename__ = "queued_order"
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SqlOrderQueue:
    """Orders accepted while order creation is over its limit, placed later by the gateway's drainer."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def put(self, order_id: str, body: dict[str, Any], now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO gateway.queued_order (order_id, body, queued_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            order_id,
            orjson.dumps(body).decode(),
            now,
        )

    async def take(self) -> tuple[str, dict[str, Any]] | None:
        """The oldest queued order, locked for this transaction (replicas skip each other's)."""
        row = await self.conn.fetchrow(
            """SELECT order_id, body FROM gateway.queued_order ORDER BY queued_at LIMIT 1
            FOR UPDATE SKIP LOCKED"""
        )
        return None if row is None else (row["order_id"], orjson.loads(row["body"]))

    async def done(self, order_id: str) -> None:
        await self.conn.execute("DELETE FROM gateway.queued_order WHERE order_id = $1", order_id)

    async def holds(self, order_id: str) -> bool:
        return await self.conn.fetchval("SELECT 1 FROM gateway.queued_order WHERE order_id = $1", order_id) is not None

    async def any(self) -> bool:
        """Whether anything is queued (a cheap check before the drainer opens a transaction)."""
        return bool(await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM gateway.queued_order)"))


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
        return int((await self.upstream.request("POST", "/users", json={"openid": openid, "nickname": nickname}))["id"])
