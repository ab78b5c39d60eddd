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
from conftest import TENANT_A, Running
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import login

CLOSED = "http://127.0.0.1:1"
RELOAD_S = 0.1
GENEROUS = "endpoints:\n  {name}: {{qps: 1000, burst: 1000}}\n"
TIGHT = "endpoints:\n  {name}: {{qps: 0.001, burst: 1, breaker: {{failures: 2, open_s: 0.5}}}}\n"


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
        while httpx.get(f"{upstreams['order'].url}/orders/q-b-{suffix}").status_code != 200:
            assert time.monotonic() < deadline, "the queued order was never placed"
            time.sleep(0.2)
        assert client.get(f"/api/orders/q-b-{suffix}", auth=signer).json()["status"] == "pending_payment"


def test_breaker_opens_after_failures_reports_its_state_and_tries_again(gateway, rules: Path) -> None:
    write_rules(rules, "endpoints:\n  product: {qps: 1000, burst: 1000, breaker: {failures: 2, open_s: 0.5}}\n")
    with gateway(product=CLOSED) as client:
        time.sleep(3 * RELOAD_S)
        signer = login(client, TENANT_A, "code-degrade-breaker")
        codes = [client.get("/api/products/GW-TEA", auth=signer).status_code for _ in range(3)]
        assert codes == [503, 503, 503]
        open_line = 'miniapp_breaker_state{endpoint="product",service="gateway",state="open"}'
        assert _metric(client, open_line) == 1
        time.sleep(0.6)
        client.get("/api/products/GW-TEA", auth=signer)  # the half-open trial fails: open again
        assert _metric(client, open_line) == 1
        assert _metric(client, 'miniapp_degraded_total{endpoint="product",service="gateway"}') == 4
