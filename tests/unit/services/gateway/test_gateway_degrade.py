"""Degradation rules (design section 2.5) on the gateway in front of real upstream processes: per-endpoint
rate limits with their fallbacks (login -> cached profile, product -> cached page, order creation -> queue,
placed later), breakers reported as metrics, and a rules file reloaded on change without a restart."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import AS_A, TENANT_A, TENANT_B, Running
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import login
from miniapp_services.gateway.tenant_config import DEFAULTS, TenantConfigs, key_of

CLOSED = "http://127.0.0.1:1"
RELOAD_S = 0.1
GENEROUS = "endpoints:\n  {name}: {{qps: 1000, burst: 1000}}\n"
TIGHT = "endpoints:\n  {name}: {{qps: 0.001, burst: 1}}\n"
# Opens on the second failure (more than one error), open for half a second; counted over a minute.
BREAKER = "{{strategy: error_count, threshold: 1, min_requests: 1, window_s: 0.5, stat_interval_s: 60}}"
BREAKING = "endpoints:\n  product: {{qps: {qps}, burst: 1000, breaker: " + BREAKER + "}}\n"


def write_rules(path: Path, text: str) -> None:
    """Replace the file; its mtime moves on even within the filesystem's clock resolution."""
    path.write_text(text)
    stamp = time.time_ns() + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return tmp_path / "rules.yml"


@pytest.fixture
def gateway(
    make_client: Callable[..., TestClient], upstreams: dict[str, Running], rules: Path
) -> Callable[..., Iterator[TestClient]]:
    def start(**overrides: str) -> TestClient:
        urls = {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
            ("search", "cart", "coupon", "seckill"), CLOSED
        )
        return make_client(
            "gateway",
            upstreams=urls | overrides,
            rules_file=str(rules),
            rules_reload_s=RELOAD_S,
        )

    return start


def _metric(client: TestClient, line_start: str) -> float:
    text = client.get("/metrics").text
    return float(next(line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(line_start)))


def test_a_rules_change_applies_within_one_reload_without_restart(gateway, rules: Path) -> None:
    write_rules(rules, GENEROUS.format(name="product"))
    with gateway() as client:
        time.sleep(3 * RELOAD_S)
        signer = login(client, TENANT_A, "code-degrade-rules")
        assert "x-miniapp-degraded" not in client.get("/api/products/GW-TEA", auth=signer).headers
        write_rules(rules, TIGHT.format(name="product"))
        changed_at, degraded_after = time.monotonic(), None
        while degraded_after is None and time.monotonic() - changed_at < 5:
            reply = client.get("/api/products/GW-TEA", auth=signer)
            if reply.headers.get("x-miniapp-degraded") == "cached-page":
                degraded_after = time.monotonic() - changed_at
                assert reply.json()["sku"] == "GW-TEA"
        assert degraded_after is not None
        assert degraded_after < 2 * RELOAD_S + 0.5  # one reload interval, plus scheduling on a busy machine
        write_rules(rules, "endpoints:\n  product: {qps: -1, burst: 1}\n")
        time.sleep(3 * RELOAD_S)
        assert _metric(client, 'miniapp_rules_reloads_total{result="refused"') == 1
        assert _metric(client, 'miniapp_rules_reloads_total{result="loaded"') == 2
        assert client.get("/api/products/GW-TEA", auth=signer).headers["x-miniapp-degraded"] == "cached-page"


def test_login_falls_back_to_the_cached_profile(gateway, rules: Path) -> None:
    write_rules(rules, TIGHT.format(name="login"))
    with gateway() as client:
        time.sleep(3 * RELOAD_S)
        first = client.post("/api/login", json={"appid": TENANT_A, "code": "code-degrade-login"})
        again = client.post("/api/login", json={"appid": TENANT_A, "code": "code-degrade-login"})
        unknown = client.post("/api/login", json={"appid": TENANT_A, "code": "code-degrade-stranger"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["x-miniapp-degraded"] == "cached-profile"
    assert again.json()["user_id"] == first.json()["user_id"]
    assert unknown.status_code == 503


def test_order_creation_under_overload_is_queued_then_placed(
    gateway, rules: Path, upstreams: dict[str, Running]
) -> None:
    write_rules(rules, TIGHT.format(name="order_create"))
    lines = [{"sku": "GW-TEA", "quantity": 1}]
    with gateway() as client:
        time.sleep(3 * RELOAD_S)
        signer = login(client, TENANT_A, "code-degrade-order")
        suffix = secrets.token_hex(3)
        placed = client.post("/api/orders", json={"order_id": f"q-a-{suffix}", "lines": lines}, auth=signer)
        queued = client.post("/api/orders", json={"order_id": f"q-b-{suffix}", "lines": lines}, auth=signer)
        assert (placed.status_code, queued.status_code) == (201, 202)
        assert queued.json() == {"order_id": f"q-b-{suffix}", "status": "queued"}
        deadline = time.monotonic() + 10
        while httpx.get(f"{upstreams['order'].url}/orders/q-b-{suffix}", headers=AS_A).status_code != 200:
            assert time.monotonic() < deadline, "the queued order was never placed"
            time.sleep(0.2)
        order = client.get(f"/api/orders/q-b-{suffix}", auth=signer).json()
        assert order["status"] == "pending_payment"
        # The tenant's notice (its configuration's template, here the default) went to the user through notify.
        expected = DEFAULTS.notice(f"q-b-{suffix}", TENANT_A)
        notices = f"{upstreams['notify'].url}/notifications"
        while not (sent := [n for n in httpx.get(notices, params={"user_id": order["user_id"]}, headers=AS_A).json()
                            if n["template"] == "order_queued" and n["data"]["order_id"] == f"q-b-{suffix}"]):  # fmt: skip
            assert time.monotonic() < deadline, "the queued order's notice was never sent"
            time.sleep(0.2)
        assert [n["data"]["text"] for n in sent] == [expected]
        assert not [n for n in httpx.get(notices, params={"user_id": order["user_id"]}, headers=AS_A).json()
                    if n["data"].get("order_id") == f"q-a-{suffix}"], "an order placed at once got a queue notice"  # fmt: skip


def test_breaker_opens_after_failures_reports_its_state_tries_again_and_outlives_a_reload(gateway, rules: Path) -> None:
    write_rules(rules, BREAKING.format(qps=1000))
    with gateway(product=CLOSED) as client:
        time.sleep(3 * RELOAD_S)
        signer = login(client, TENANT_A, "code-degrade-breaker")
        codes = [client.get("/api/products/GW-TEA", auth=signer).status_code for _ in range(3)]
        assert codes == [503, 503, 503]
        open_line = 'miniapp_breaker_state{endpoint="product",service="gateway",state="open"}'
        assert _metric(client, open_line) == 1
        # A new rate for product, the same breaker: the reload keeps it open (a rebuilt one would be closed).
        write_rules(rules, BREAKING.format(qps=900))
        time.sleep(3 * RELOAD_S)
        assert _metric(client, 'miniapp_rules_reloads_total{result="loaded"') == 2
        assert _metric(client, open_line) == 1
        time.sleep(0.6)
        client.get("/api/products/GW-TEA", auth=signer)  # the half-open probe fails: open again
        assert _metric(client, open_line) == 1
        degraded = 'miniapp_degraded_total{{endpoint="product",reason="{}",service="gateway"}}'
        assert _metric(client, degraded.format("call_failed")) == 3
        assert _metric(client, degraded.format("breaker_open")) == 1


def test_a_degraded_answer_with_nothing_to_give_names_the_tenants_fallback_page(gateway, rules: Path) -> None:
    """Nothing cached: 503 with the tenant's fallback page (its configuration's) as a Link; a tenant without one
    gets the 503 alone."""
    both = "endpoints:\n  product: {qps: 0.001, burst: 1}\n  login: {qps: 0.001, burst: 1}\n"
    write_rules(rules, both)
    page = "https://cdn.example.com/tea/offline.html"
    with gateway() as client:
        time.sleep(3 * RELOAD_S)
        configs: TenantConfigs = client.app.state.tenant_configs
        assert configs.replace({key_of(TENANT_A): f"fallback_page: {page}\n"}) == []
        signer = login(client, TENANT_A, "code-degrade-page")  # the login rule's one token
        assert client.get("/api/products/GW-NEVER-SEEN", auth=signer).status_code == 404  # the rule's one token
        refused = client.get("/api/products/GW-NEVER-SEEN", auth=signer)
        assert (refused.status_code, refused.headers["link"]) == (503, f'<{page}>; rel="alternate"')
        stranger = client.post("/api/login", json={"appid": TENANT_A, "code": "code-degrade-stranger-2"})
        assert (stranger.status_code, stranger.headers["link"]) == (503, f'<{page}>; rel="alternate"')
        other = client.post("/api/login", json={"appid": TENANT_B, "code": "code-degrade-stranger-3"})
        assert other.status_code == 503
        assert "link" not in other.headers
