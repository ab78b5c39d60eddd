"""The gateway in front of real service processes: login, a signed-in journey, ownership and degradation.

Upstreams run as `python -m miniapp_services serve` processes on loopback; the gateway under test runs in
a TestClient. search, cart, coupon and seckill point at a closed port, so their routes must degrade.
"""

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import Running, start_service
from fastapi.testclient import TestClient

CLOSED = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def upstreams(database: str) -> Iterator[dict[str, Running]]:
    started: dict[str, Running] = {}
    try:
        for name in ("user", "product", "inventory", "checkin"):
            started[name] = start_service(name, database)
        deps = {"product": started["product"].target, "inventory": started["inventory"].target}
        started["order"] = start_service("order", database, dependencies=deps)
        started["pay"] = start_service("pay", database, dependencies={"order": started["order"].target})
        httpx.put(
            f"{started['product'].url}/products/GW-TEA", json={"title": "Tea", "price_cents": 300, "category": "gw"}
        )
        httpx.put(f"{started['inventory'].url}/stock/GW-TEA", json={"available": 5})
        yield started
    finally:
        for running in started.values():
            running.stop()


@pytest.fixture(scope="module")
def gateway(make_client: Callable[..., TestClient], upstreams: dict[str, Running]) -> Iterator[TestClient]:
    urls = {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
        ("search", "cart", "coupon", "seckill"), CLOSED
    )
    with make_client("gateway", upstreams=urls, session_secret=secrets.token_hex(32), http_timeout_s=2) as client:
        yield client


def _login(gateway: TestClient, code: str) -> dict[str, str]:
    reply = gateway.post("/api/login", json={"code": code, "nickname": "Lin"})
    assert reply.status_code == 201, reply.text
    return {"authorization": f"Bearer {reply.json()['token']}"}


def test_login_is_stable_per_code_and_sessions_differ(gateway: TestClient) -> None:
    first = gateway.post("/api/login", json={"code": "code-aaaa1111"}).json()
    again = gateway.post("/api/login", json={"code": "code-aaaa1111"}).json()
    other = gateway.post("/api/login", json={"code": "code-bbbb2222"}).json()
    assert first["user_id"] == again["user_id"] != other["user_id"]
    assert first["token"] != again["token"]


def test_journey_check_in_order_pay(gateway: TestClient) -> None:
    me = _login(gateway, "code-journey-1")
    assert gateway.post("/api/checkin", headers=me).json()["streak"] == 1
    home = gateway.get("/api/home", headers=me).json()
    assert (home["checkin"]["streak"], home["degraded"]) == (1, [])
    placed = gateway.post(
        "/api/orders", headers=me, json={"order_id": "gw-1", "lines": [{"sku": "GW-TEA", "quantity": 2}]}
    )
    assert placed.status_code == 201, placed.text
    paid = gateway.post("/api/payments", headers=me, json={"order_id": "gw-1", "amount_cents": 600})
    assert paid.status_code == 201, paid.text
    assert gateway.get("/api/orders/gw-1", headers=me).json()["status"] == "paid"


def test_another_users_order_is_not_found(gateway: TestClient) -> None:
    owner, other = _login(gateway, "code-owner-1"), _login(gateway, "code-other-1")
    gateway.post("/api/orders", headers=owner, json={"order_id": "gw-2", "lines": [{"sku": "GW-TEA", "quantity": 1}]})
    assert gateway.get("/api/orders/gw-2", headers=other).status_code == 404
    assert (
        gateway.post("/api/payments", headers=other, json={"order_id": "gw-2", "amount_cents": 300}).status_code == 404
    )


def test_down_upstream_is_503_or_degraded_never_500(gateway: TestClient) -> None:
    me = _login(gateway, "code-degrade-1")
    assert gateway.get("/api/cart", headers=me).status_code == 503
    assert gateway.get("/api/search", headers=me, params={"q": "tea"}).status_code == 503


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Bearer"),
        ({"authorization": "Bearer not-a-token"}, "unknown session"),
        ({"authorization": "Basic x"}, "Bearer"),
    ],
)
def test_no_session_is_401_with_a_reason(gateway: TestClient, headers: dict, reason: str) -> None:
    reply = gateway.get("/api/home", headers=headers)
    assert reply.status_code == 401
    assert reason in reply.json()["detail"]["msg"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/login", {"code": "short"}, "code"),
        ("/api/login", {"code": "has spaces in it"}, "code"),
        ("/api/orders", {"order_id": "x", "lines": []}, "lines"),
        ("/api/orders", {"order_id": "x", "lines": [{"sku": "A", "quantity": 1}], "user_id": 1}, "user_id"),
        ("/api/payments", {"order_id": "x"}, "amount_cents"),
    ],
)
def test_bad_input_is_422_naming_the_field(gateway: TestClient, path: str, body: dict, field: str) -> None:
    headers = _login(gateway, "code-badinput-1") if path != "/api/login" else {}
    reply = gateway.post(path, headers=headers, json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text


def test_gateway_refuses_to_start_without_its_secret(make_client: Callable[..., TestClient]) -> None:
    with pytest.raises(ValueError, match="MINIAPP_SESSION_SECRET"):
        make_client("gateway", upstreams={})
