"""Tenants apart at the API (issue 20, item 5): with merchant A's session, every read and write naming merchant
B's ids answers 404, as an id that does not exist would (403 would say it exists). B's catalogue, search index,
orders, payments, flash sales and coupons are B's; A's cart, check-ins and orders are A's, whatever ids they use.

Every service the gateway calls runs here as its own process on one PostgreSQL, as a non-superuser login that
row-level security holds (tools/pgtmp.py)."""

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import SEEDED_SKU, TENANT_A, TENANT_B, Running, start_service
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import SignedSession, login
from miniapp_services.kit import tenancy

B_SKU, B_TITLE, B_EVENT, B_COUPON = "B-ONLY-OOLONG", "Oolong of merchant B", "b-sale", "B-WELCOME"


AS_B = {tenancy.HEADER: TENANT_B}  # as the gateway calls a service for merchant B


@pytest.fixture(scope="module")
def everything(upstreams: dict[str, Running], database: str) -> Iterator[dict[str, str]]:
    """The session's upstreams plus search, cart, coupon and seckill, with B's catalogue written to them."""
    product = {"product": upstreams["product"].target}
    extra = {
        "search": start_service("search", database),
        "cart": start_service("cart", database, dependencies=product),
        "coupon": start_service("coupon", database),
        "seckill": start_service("seckill", database),
    }
    try:
        now = datetime.now(UTC)
        writes = [
            (upstreams["product"], f"/products/{B_SKU}", {"title": B_TITLE, "price_cents": 900, "category": "tea"}),
            (upstreams["inventory"], f"/stock/{B_SKU}", {"available": 50}),
            (extra["search"], f"/documents/{B_SKU}", {"title": B_TITLE, "category": "tea"}),
            (extra["coupon"], f"/coupons/{B_COUPON}", {"discount_cents": 100, "min_total_cents": 0, "total": 10}),
            (
                extra["seckill"],
                f"/seckill/events/{B_EVENT}",
                {
                    "sku": B_SKU,
                    "price_cents": 99,
                    "stock": 10,
                    "starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=1)).isoformat(),
                },
            ),
        ]
        for running, path, body in writes:
            httpx.put(f"{running.url}{path}", json=body, headers=AS_B).raise_for_status()
        yield {name: r.url for name, r in (upstreams | extra).items()}
    finally:
        for running in extra.values():
            running.stop()


@pytest.fixture(scope="module")
def gateway(make_client: Callable[..., TestClient], everything: dict[str, str]) -> Iterator[TestClient]:
    with make_client("gateway", upstreams=everything, http_timeout_s=2) as client:
        yield client


def _placed(gateway: TestClient, session: SignedSession, order_id: str, sku: str = SEEDED_SKU) -> httpx.Response:
    body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": 1}]}
    return gateway.post("/api/orders", json=body, auth=session)


def test_b_is_served_its_own_ids(gateway: TestClient) -> None:
    b = login(gateway, TENANT_B, "code-tenancy-b", "Bea")
    assert gateway.get(f"/api/products/{B_SKU}", auth=b).json()["title"] == B_TITLE
    assert [hit["sku"] for hit in gateway.get("/api/search", params={"q": "Oolong"}, auth=b).json()] == [B_SKU]
    assert _placed(gateway, b, f"b-own-{secrets.token_hex(3)}", B_SKU).status_code == 201


def test_a_session_naming_b_ids_is_answered_404_everywhere(gateway: TestClient) -> None:
    """Each of B's ids, used with A's session, is not found: products, orders of them, cart lines, payments of B's
    order, B's flash sale and coupon. Search finds nothing of B's."""
    a, b = login(gateway, TENANT_A, "code-tenancy-a", "Ann"), login(gateway, TENANT_B, "code-tenancy-b2", "Ben")
    b_order = f"b-{secrets.token_hex(4)}"
    assert _placed(gateway, b, b_order).status_code == 201
    refused = {
        "product": gateway.get(f"/api/products/{B_SKU}", auth=a),
        "order of B's product": _placed(gateway, a, f"a-{secrets.token_hex(4)}", B_SKU),
        "cart line of B's product": gateway.put(f"/api/cart/items/{B_SKU}", json={"quantity": 1}, auth=a),
        "B's order": gateway.get(f"/api/orders/{b_order}", auth=a),
        "payment of B's order": gateway.post("/api/payments", json={"order_id": b_order, "amount_cents": 300}, auth=a),
        "B's order's payment": gateway.get(f"/api/payments/{b_order}", auth=a),
        "B's flash sale": gateway.post(f"/api/seckill/{B_EVENT}", auth=a),
        "B's coupon": gateway.post("/api/coupons", json={"code": B_COUPON}, auth=a),
    }
    assert {name: reply.status_code for name, reply in refused.items()} == dict.fromkeys(refused, 404)
    assert gateway.get("/api/search", params={"q": "Oolong"}, auth=a).json() == []
    # B's order is untouched by A's attempts.
    assert gateway.get(f"/api/orders/{b_order}", auth=b).json()["status"] == "pending_payment"


def test_the_same_ids_are_each_tenants_own(gateway: TestClient) -> None:
    """An order id B used is free for A (no conflict, which would say B has it); each reads back its own, and each
    user's check-in streak and cart are their own."""
    a, b = login(gateway, TENANT_A, "code-tenancy-a3", "Ada"), login(gateway, TENANT_B, "code-tenancy-b3", "Bob")
    shared = f"same-{secrets.token_hex(4)}"
    assert (_placed(gateway, b, shared).status_code, _placed(gateway, a, shared).status_code) == (201, 201)
    mine, theirs = (gateway.get(f"/api/orders/{shared}", auth=s).json() for s in (a, b))
    assert mine["order_id"] == theirs["order_id"] == shared
    assert mine["user_id"] != theirs["user_id"]
    assert gateway.post("/api/checkin", auth=b).status_code == 201
    assert gateway.put(f"/api/cart/items/{SEEDED_SKU}", json={"quantity": 2}, auth=b).status_code == 204
    assert gateway.get("/api/cart", auth=a).json()["items"] == []
    assert gateway.get("/api/home", auth=a).json()["checkin"]["streak"] == 0
