"""The gateway's replay guard (nonces in Redis, shared by its replicas), its table (schema "gateway": orders
queued under overload), its degradation rules file, and its adapter to the user service."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from redis.asyncio import Redis
from sqlalchemy import DateTime, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.gateway.degradation import BreakerRule, EndpointRule, Strategy
from miniapp_services.gateway.domain import Claim, Nonce, TenantRate
from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check
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


# Each replica says it is alive (on the rules' reload tick, every second) and reads how many are: the ones heard
# from within the TTL, by the store's clock. KEYS: the set; ARGV: this replica, the TTL (s). Returns the count.
_LIVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], t, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2))
return redis.call('ZCARD', KEYS[1])
"""


class RedisReplicas:
    """The gateway replicas alive now, from the store they share: each takes its share of a per-service rate."""

    def __init__(self, client: Redis, replica: str, ttl_s: float) -> None:
        self.live_script, self.replica, self.ttl_s = client.register_script(_LIVE), replica, ttl_s

    async def live(self) -> int:
        return max(1, int(await self.live_script(keys=["gateway:replicas"], args=[self.replica, self.ttl_s])))


class QueuedOrderRow(Tenanted, Base):
    __tablename__ = "queued_order"
    __table_args__ = (check("queued_order"),)
    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    notice: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class QueuedOrder:
    order_id: str
    body: dict[str, Any]  # what the order service is sent
    notice: str | None  # sent to the user through notify once placed (none for orders queued before notices)


class SqlOrderQueue:
    """Orders accepted while order creation is over its limit, placed later by the gateway's drainer."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def put(self, order_id: str, body: dict[str, Any], notice: str, now: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO gateway.queued_order (order_id, body, notice, queued_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT DO NOTHING""",
            order_id,
            orjson.dumps(body).decode(),
            notice,
            now,
        )

    async def take(self) -> QueuedOrder | None:
        """The oldest queued order, locked for this transaction (replicas skip each other's)."""
        row = await self.conn.fetchrow(
            """SELECT order_id, body, notice FROM gateway.queued_order ORDER BY queued_at LIMIT 1
            FOR UPDATE SKIP LOCKED"""
        )
        return None if row is None else QueuedOrder(row["order_id"], orjson.loads(row["body"]), row["notice"])

    async def done(self, order_id: str) -> None:
        await self.conn.execute("DELETE FROM gateway.queued_order WHERE order_id = $1", order_id)

    async def holds(self, order_id: str) -> bool:
        return await self.conn.fetchval("SELECT 1 FROM gateway.queued_order WHERE order_id = $1", order_id) is not None

    async def oldest_tenant(self) -> str | None:
        """The tenant of the order queued longest, if any: read across tenants (tenancy.EVERY) by the drainer."""
        tenant: str | None = await self.conn.fetchval(
            "SELECT tenant FROM gateway.queued_order ORDER BY queued_at LIMIT 1"
        )
        return tenant


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerRuleIn(_Strict):
    """Sentinel's degrade rule; the defaults are the design's: open above 50 % errors with at least 20 calls."""

    strategy: Strategy = Field(Strategy.ERROR_RATIO, description="error_ratio, slow_ratio or error_count")
    threshold: float = Field(0.5, gt=0, description="a ratio in (0, 1], or for error_count a number of errors")
    min_requests: int = Field(20, ge=1, le=100_000, description="calls the window must hold before it may open")
    window_s: float = Field(30.0, gt=0, le=3600, description="seconds open before one probe call")
    stat_interval_s: float | None = Field(
        None, gt=0, le=3600, description="the statistic window in seconds; unset: window_s, as the design counts"
    )
    max_rt_ms: float | None = Field(None, gt=0, le=60_000, description="slow_ratio only: slower than this is slow")

    @model_validator(mode="after")
    def _fits_strategy(self) -> BreakerRuleIn:
        if self.strategy is not Strategy.ERROR_COUNT and self.threshold > 1:
            raise ValueError(f"threshold: {self.strategy.value} takes a ratio in (0, 1], not {self.threshold:g}")
        if (self.strategy is Strategy.SLOW_RATIO) != (self.max_rt_ms is not None):
            raise ValueError("max_rt_ms: set it for slow_ratio (what counts as slow), and only for slow_ratio")
        return self

    def rule(self) -> BreakerRule:
        max_rt_s = math.inf if self.max_rt_ms is None else self.max_rt_ms / 1000
        interval = self.stat_interval_s or self.window_s
        return BreakerRule(self.strategy, self.threshold, self.min_requests, self.window_s, interval, max_rt_s)


class EndpointRuleIn(_Strict):
    qps: float = Field(gt=0, description="requests per second the gateway serves, all replicas together")
    burst: int = Field(ge=1, le=100_000, description="requests above the rate allowed at once, all replicas together")
    breaker: BreakerRuleIn = BreakerRuleIn()


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
    return {name: EndpointRule(rule.qps, rule.burst, rule.breaker.rule()) for name, rule in rules.endpoints.items()}


class HttpUsers:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def register(self, openid: str, nickname: str) -> int:
        return int((await self.upstream.request("POST", "/users", json={"openid": openid, "nickname": nickname}))["id"])
