"""The gateway's degradation rules (design section 2.5) as Sentinel implements them: per endpoint a flow rule (requests
per second for the gateway service as a whole, each replica taking its share of the live replicas) and a circuit
breaker with one of Sentinel's strategies and its state machine. Pure: the clock is passed in.

Breaker (Sentinel's DegradeRule, Java semantics, ../shared/reference/governance-anchors.md section 1): every
completed call is counted in a tumbling statistic window; once the window holds at least `min_requests`, the
breaker opens when its strategy's figure exceeds the threshold (error ratio, slow-call ratio, or error count). Open
for `window_s`, it lets the first call after that through as the one probe (half-open) and refuses the rest; the
probe's outcome closes it (statistics reset) or opens it for another window. A probe that never completes (the
request was cancelled) opens it again, as Sentinel's exit hook does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Strategy(StrEnum):
    """Sentinel's three: its grade 1 (exception ratio), 0 (slow-request ratio) and 2 (exception count)."""

    ERROR_RATIO = "error_ratio"
    SLOW_RATIO = "slow_ratio"
    ERROR_COUNT = "error_count"


@dataclass(frozen=True)
class BreakerRule:
    strategy: Strategy
    threshold: float  # a ratio in (0, 1] for the ratio strategies, a number of errors for error_count
    min_requests: int
    window_s: float  # open this long before the probe (Sentinel's timeWindow; the design's breaker window)
    stat_interval_s: float  # the statistic window (Sentinel's statIntervalMs)
    max_rt_s: float = math.inf  # slow_ratio: a call slower than this is slow

    def bad(self, ok: bool, rt_s: float) -> bool:
        """Whether a completed call counts against the breaker: slow for slow_ratio, failed for the others."""
        return rt_s > self.max_rt_s if self.strategy is Strategy.SLOW_RATIO else not ok

    def tripped(self, total: int, bad: int) -> bool:
        if total < self.min_requests:
            return False
        if self.strategy is Strategy.ERROR_COUNT:
            return bad > self.threshold
        ratio = bad / total
        # Sentinel #1769: a threshold of 1.0 must still trip when every call is bad.
        return ratio > self.threshold or ratio == self.threshold == 1.0


@dataclass
class Breaker:
    rule: BreakerRule
    state: BreakerState = BreakerState.CLOSED
    retry_at: float = 0.0
    window_start: float = -math.inf
    total: int = 0
    bad: int = 0

    def allow(self, now: float) -> bool:
        """Closed: yes. Open: no, until its window is over; the first call then is the probe (half-open)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and now >= self.retry_at:
            self.state = BreakerState.HALF_OPEN
            return True
        return False

    def record(self, ok: bool, started: float, now: float) -> None:
        """A call started at `started` completed now: the probe's outcome decides a half-open breaker; a closed
        one counts it."""
        bad = self.rule.bad(ok, now - started)
        if self.state is BreakerState.HALF_OPEN:
            self._open(now) if bad else self._close()
            return
        if self.state is BreakerState.OPEN:
            return  # admitted before the breaker opened: the window that opened it is over
        start = now - now % self.rule.stat_interval_s
        if start != self.window_start:
            self.window_start, self.total, self.bad = start, 0, 0
        self.total, self.bad = self.total + 1, self.bad + bad
        if self.rule.tripped(self.total, self.bad):
            self._open(now)

    def abandon(self, now: float) -> None:
        """The probe never completed: open again."""
        if self.state is BreakerState.HALF_OPEN:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state, self.retry_at = BreakerState.OPEN, now + self.rule.window_s

    def _close(self) -> None:
        self.state, self.window_start, self.total, self.bad = BreakerState.CLOSED, -math.inf, 0, 0


@dataclass
class TokenBucket:
    """The service's requests per second and burst, of which this replica takes its share: one of `replicas`."""

    rate: float
    burst: float
    replicas: int = 1
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        rate, burst = self.rate / self.replicas, max(1.0, self.burst / self.replicas)
        if self.tokens < 0:
            self.tokens, self.stamp = burst, now
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(frozen=True)
class EndpointRule:
    qps: float  # for the gateway service as a whole
    burst: int
    breaker: BreakerRule


@dataclass
class Guard:
    """An endpoint's limiter and breaker."""

    rule: EndpointRule
    bucket: TokenBucket
    breaker: Breaker = field(init=False)

    def __post_init__(self) -> None:
        self.breaker = Breaker(self.rule.breaker)


def guards(rules: Mapping[str, EndpointRule], previous: Mapping[str, Guard], replicas: int) -> dict[str, Guard]:
    """The guards for a new rule set: an endpoint whose breaker rule did not change keeps its breaker (its counts,
    an open state), one whose rate did not change keeps its bucket (Sentinel reuses a breaker whose rule is
    equal); everything else starts anew."""
    found: dict[str, Guard] = {}
    for name, rule in rules.items():
        old = previous.get(name)
        same_rate = old is not None and (old.rule.qps, old.rule.burst) == (rule.qps, rule.burst)
        guard = Guard(rule, old.bucket if old is not None and same_rate else TokenBucket(rule.qps, rule.burst))
        if old is not None and old.rule.breaker == rule.breaker:
            guard.breaker = old.breaker
        guard.bucket.replicas = replicas
        found[name] = guard
    return found
