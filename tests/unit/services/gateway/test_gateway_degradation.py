"""The gateway's degradation rules as Sentinel's, with an injected clock: every breaker strategy and transition,
each replica's share of a per-service rate, a reload that keeps the state of unchanged rules, and the fallback
reasons of a guarded call."""

from __future__ import annotations

import asyncio
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from miniapp_services.gateway.application import Fallback, guarded
from miniapp_services.gateway.degradation import (
    Breaker,
    BreakerRule,
    BreakerState,
    EndpointRule,
    Guard,
    Strategy,
    TokenBucket,
    guards,
)
from miniapp_services.gateway.infrastructure import BreakerRuleIn, RedisReplicas, RulesError, load_rules
from miniapp_services.kit.errors import NotFound, Unavailable

SAMPLE = Path(__file__).resolve().parents[4] / "inventories/production-sample/group_vars/all/services_catalog.yml"

DESIGN = BreakerRule(Strategy.ERROR_RATIO, 0.5, 20, window_s=30, stat_interval_s=30)
CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


def _calls(breaker: Breaker, outcomes: str, now: float, rt_s: float = 0.01) -> None:
    """Record completed calls: 'o' ok, 'x' failed."""
    for outcome in outcomes:
        assert breaker.allow(now)
        breaker.record(outcome == "o", now - rt_s, now)


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [
        ("x" * 19, CLOSED),  # every call failed, but fewer than min_requests
        ("o" * 10 + "x" * 10, CLOSED),  # 50 % is not above 50 %
        ("o" * 9 + "x" * 11, OPEN),  # 55 % with 20 calls
    ],
)
def test_error_ratio_opens_above_the_threshold_with_the_minimum_of_calls(outcomes: str, state: BreakerState) -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, outcomes, now=1.0)
    assert breaker.state is state


def test_error_count_opens_on_the_error_after_the_threshold() -> None:
    breaker = Breaker(BreakerRule(Strategy.ERROR_COUNT, 5, 1, window_s=10, stat_interval_s=60))
    _calls(breaker, "o" * 50 + "x" * 5, now=1.0)
    assert breaker.state is CLOSED
    _calls(breaker, "x", now=1.0)
    assert breaker.state is OPEN


def test_slow_ratio_counts_slow_calls_not_failures() -> None:
    rule = BreakerRule(Strategy.SLOW_RATIO, 0.5, 4, window_s=10, stat_interval_s=60, max_rt_s=0.2)
    breaker = Breaker(rule)
    _calls(breaker, "xxxx", now=1.0, rt_s=0.05)  # failed but fast
    assert breaker.state is CLOSED
    _calls(breaker, "ooooo", now=1.0, rt_s=0.5)  # 5 slow of 9
    assert breaker.state is OPEN


def test_a_threshold_of_one_still_trips_when_every_call_is_bad() -> None:
    breaker = Breaker(BreakerRule(Strategy.SLOW_RATIO, 1.0, 3, window_s=10, stat_interval_s=60, max_rt_s=0.1))
    _calls(breaker, "ooo", now=1.0, rt_s=1.0)
    assert breaker.state is OPEN


def test_the_statistic_window_tumbles() -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, "x" * 15, now=29.0)
    _calls(breaker, "x" * 15, now=31.0)  # a new window: 15 calls, below the minimum
    assert breaker.state is CLOSED
    _calls(breaker, "x" * 5, now=59.0)
    assert breaker.state is OPEN


def test_open_refuses_for_the_window_then_lets_exactly_one_probe_through() -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, "x" * 20, now=100.0)
    assert breaker.state is OPEN
    assert not breaker.allow(129.9)
    assert breaker.allow(130.0)
    assert breaker.state is HALF_OPEN
    assert [breaker.allow(130.1) for _ in range(3)] == [False, False, False]


def test_a_successful_probe_closes_and_resets_the_counts() -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, "o" * 9 + "x" * 11, now=100.0)
    assert breaker.allow(130.0)
    breaker.record(True, 129.99, 130.0)
    assert (breaker.state, breaker.total, breaker.bad) == (CLOSED, 0, 0)
    _calls(breaker, "x" * 19, now=130.5)  # counts began anew: 19 calls are below the minimum
    assert breaker.state is CLOSED


def test_a_failed_probe_opens_for_another_window() -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, "x" * 20, now=100.0)
    assert breaker.allow(131.0)
    breaker.record(False, 130.99, 131.0)
    assert (breaker.state, breaker.retry_at) == (OPEN, 161.0)
    assert not breaker.allow(160.0)
    assert breaker.allow(161.0)


def test_an_abandoned_probe_opens_again_and_a_late_answer_changes_nothing() -> None:
    breaker = Breaker(DESIGN)
    _calls(breaker, "x" * 20, now=100.0)
    breaker.record(True, 100.49, 100.5)  # a call admitted before the breaker opened
    assert breaker.state is OPEN
    assert breaker.allow(130.0)
    breaker.abandon(130.2)
    assert (breaker.state, breaker.retry_at) == (OPEN, 160.2)


def test_each_replica_serves_its_share_of_the_service_rate() -> None:
    alone, shared = TokenBucket(rate=10, burst=10), TokenBucket(rate=10, burst=10, replicas=2)
    assert sum(alone.take(0.0) for _ in range(20)) == 10
    assert sum(shared.take(0.0) for _ in range(20)) == 5
    assert sum(shared.take(1.0) for _ in range(20)) == 5  # 5 per second
    shared.replicas = 5  # scaled out: the share follows
    assert sum(shared.take(2.0) for _ in range(20)) == 2


def test_a_reload_keeps_the_state_of_every_rule_it_did_not_change() -> None:
    login, product = EndpointRule(500, 500, DESIGN), EndpointRule(2000, 2000, DESIGN)
    before = guards({"login": login, "product": product}, {}, replicas=2)
    _calls(before["product"].breaker, "x" * 20, now=1.0)
    slower = EndpointRule(1000, 1000, DESIGN)
    stricter = EndpointRule(500, 500, BreakerRule(Strategy.ERROR_COUNT, 3, 1, window_s=30, stat_interval_s=30))
    after = guards({"login": stricter, "product": slower}, before, replicas=2)
    assert after["product"].breaker is before["product"].breaker  # still open: only its rate changed
    assert after["product"].breaker.state is OPEN
    assert after["product"].bucket is not before["product"].bucket
    assert after["login"].bucket is before["login"].bucket
    assert after["login"].breaker is not before["login"].breaker
    assert {g.bucket.replicas for g in after.values()} == {2}
    assert guards({"login": stricter}, after, replicas=1).keys() == {"login"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _guard(qps: float = 1000, burst: int = 1000, rule: BreakerRule = DESIGN) -> Guard:
    return guards({"e": EndpointRule(qps, burst, rule)}, {}, replicas=1)["e"]


def test_fallback_reasons_and_what_the_breaker_counts() -> None:
    clock, reasons = Clock(), list[Fallback]()

    async def fallback(reason: Fallback) -> str:
        reasons.append(reason)
        return "fallback"

    async def ok() -> str:
        return "answer"

    async def failing() -> str:
        raise Unavailable("down")

    async def not_found() -> str:
        raise NotFound("no such product")

    async def run() -> None:
        limited = _guard(qps=0.001, burst=1)
        assert await guarded(limited, clock, ok, fallback) == ("answer", False)
        assert await guarded(limited, clock, ok, fallback) == ("fallback", True)
        guard = _guard(rule=BreakerRule(Strategy.ERROR_COUNT, 1, 1, window_s=30, stat_interval_s=30))
        with pytest.raises(NotFound):
            await guarded(guard, clock, not_found, fallback)  # an answer, not a failure
        assert (guard.breaker.total, guard.breaker.bad) == (1, 0)
        assert await guarded(guard, clock, failing, fallback) == ("fallback", True)
        assert await guarded(guard, clock, failing, fallback) == ("fallback", True)
        assert guard.breaker.state is OPEN
        assert await guarded(guard, clock, ok, fallback) == ("fallback", True)
        clock.now = 30.0
        assert await guarded(guard, clock, ok, fallback) == ("answer", False)
        assert guard.breaker.state is CLOSED
        assert await guarded(None, clock, ok, fallback) == ("answer", False)

    asyncio.run(run())
    over, opened, failed = Fallback.OVER_RATE, Fallback.BREAKER_OPEN, Fallback.CALL_FAILED
    assert reasons == [over, failed, failed, opened]


def test_a_cancelled_probe_opens_the_breaker_again() -> None:
    clock = Clock()
    guard = _guard(rule=BreakerRule(Strategy.ERROR_COUNT, 1, 1, window_s=5, stat_interval_s=5))

    async def fallback(reason: Fallback) -> str:
        return reason.value

    async def hangs() -> str:
        await asyncio.sleep(math.inf)
        return "never"

    async def run() -> None:
        _calls(guard.breaker, "xx", now=0.0)
        clock.now = 5.0
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await guarded(guard, clock, hangs, fallback)
        assert (guard.breaker.state, guard.breaker.retry_at) == (OPEN, 10.0)

    asyncio.run(run())


def test_the_catalog_check_knows_the_breaker_the_gateway_reads_and_the_sample_loads(tmp_path: Path) -> None:
    """The collection checks the catalog's degradation early (plugins/module_utils/mesh_catalog.py); the gateway's
    model is the authority: same keys and strategies, and the sample catalog's rules load as the design's."""
    from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog

    assert set(BreakerRuleIn.model_fields) == mesh_catalog.BREAKER_KEYS
    assert tuple(s.value for s in Strategy) == mesh_catalog.BREAKER_STRATEGIES
    catalog = yaml.safe_load(SAMPLE.read_text())["services_catalog"]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"endpoints": catalog["services"]["gateway"]["degradation"]}))
    loaded = load_rules(path)
    assert {name: (rule.qps, rule.breaker.window_s) for name, rule in loaded.items()} == {
        "login": (500, 60), "product": (2000, 30), "order_create": (300, 120),
    }  # fmt: skip
    assert {rule.breaker for rule in loaded.values()} >= {
        BreakerRule(Strategy.ERROR_RATIO, 0.5, 20, window_s=30, stat_interval_s=30)
    }


@pytest.mark.parametrize(
    ("breaker", "words"),
    [
        ({"strategy": "slow_ratio"}, "max_rt_ms: set it for slow_ratio"),
        ({"threshold": 1.5}, "error_ratio takes a ratio in (0, 1]"),
        ({"failures": 5}, "failures"),
    ],
)
def test_a_bad_breaker_is_refused_naming_the_field(tmp_path: Path, breaker: dict, words: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"endpoints": {"product": {"qps": 10, "burst": 10, "breaker": breaker}}}))
    with pytest.raises(RulesError, match=re.escape(words)):
        load_rules(path)


def test_the_replicas_alive_are_counted_in_the_shared_store(nonce_store: str) -> None:
    async def run() -> list[int]:
        client = Redis.from_url(nonce_store)
        try:
            a, b = RedisReplicas(client, "replica-a", 0.5), RedisReplicas(client, "replica-b", 0.5)
            counts = [await a.live(), await b.live()]
            await asyncio.sleep(0.7)  # a says nothing for longer than the TTL
            counts += [await b.live(), await a.live()]
            return counts
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [1, 2, 1, 2]
