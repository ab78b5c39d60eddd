"""What each service is driven with in the memory benchmark: a setup on first use, then one request per call.

Each factory takes the running containers (by service name, with .url) and returns request(client, n).
Only loopback addresses of the project's own containers are used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from miniapp_services.clients.signed import login
from miniapp_services.kit import tenancy
from tools import tenantstmp

Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
TEA = {"title": "Jasmine green tea", "price_cents": 300, "category": "bench"}
# Every call straight to a service names the tenant, as the gateway's do: the benchmark's one merchant.
AS_TENANT = {tenancy.HEADER: tenantstmp.BENCH_TENANT}


def _put(url: str, body: dict[str, Any]) -> None:
    httpx.put(url, json=body, headers=AS_TENANT, timeout=10).raise_for_status()


def _catalogue(c: dict[str, Any]) -> None:
    _put(f"{c['product'].url}/products/BENCH-TEA", TEA)
    _put(f"{c['inventory'].url}/stock/BENCH-TEA", {"available": 1_000_000})


def user(_c: dict[str, Any]) -> Request:
    return lambda client, n: client.post("/users", json={"openid": f"bench-{n}", "nickname": "bench"})


def product(c: dict[str, Any]) -> Request:
    _catalogue(c)
    return lambda client, n: client.get("/products/BENCH-TEA")


def inventory(c: dict[str, Any]) -> Request:
    _catalogue(c)
    return lambda client, n: client.post(
        "/reservations", json={"order_id": f"inv-{n}", "sku": "BENCH-TEA", "quantity": 1}
    )


def cart(c: dict[str, Any]) -> Request:
    _catalogue(c)
    return lambda client, n: client.put(f"/carts/{n % 200 + 1}/items/BENCH-TEA", json={"quantity": n % 5 + 1})


def order(c: dict[str, Any]) -> Request:
    _catalogue(c)
    line = [{"sku": "BENCH-TEA", "quantity": 1}]
    return lambda client, n: client.post("/orders", json={"order_id": f"ord-{n}", "user_id": n + 1, "lines": line})


def pay(_c: dict[str, Any]) -> Request:
    # Pays the orders the order load placed (1 tea each, 300 cents).
    return lambda client, n: client.post("/payments", json={"order_id": f"ord-{n}", "amount_cents": 300})


def coupon(c: dict[str, Any]) -> Request:
    _put(f"{c['coupon'].url}/coupons/BENCH-5OFF", {"discount_cents": 500, "min_total_cents": 0, "total": 1000})
    return lambda client, n: client.post("/claims", json={"code": "BENCH-5OFF", "user_id": n + 1})


def checkin(_c: dict[str, Any]) -> Request:
    return lambda client, n: client.post("/checkins", json={"user_id": n + 1})


def seckill(c: dict[str, Any]) -> Request:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    event = {**{k: TEA[k] for k in ("price_cents",)}, "sku": "BENCH-TEA", "stock": 100}
    _put(
        f"{c['seckill'].url}/seckill/events/bench-fs",
        {**event, "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=1)).isoformat()},
    )
    return lambda client, n: client.post("/seckill/events/bench-fs/attempts", json={"user_id": n + 1})


def notify(_c: dict[str, Any]) -> Request:
    data = {"order_id": "o", "amount": "3.00"}
    return lambda client, n: client.post(
        "/notifications", json={"user_id": n % 100 + 1, "template": "order_paid", "data": data}
    )


def search(c: dict[str, Any]) -> Request:
    for i in range(200):
        _put(f"{c['search'].url}/documents/BENCH-{i}", {"title": f"tea {i} gift box", "category": "bench"})
    return lambda client, n: client.get("/search", params={"q": "tea gift"})


def gateway(c: dict[str, Any]) -> Request:
    with httpx.Client(base_url=c["gateway"].url, timeout=10) as client:
        signer = login(client, tenantstmp.BENCH_TENANT, "bench-code-0001")
    return lambda client, n: client.get("/api/home", auth=signer)


LOADS: dict[str, Callable[[dict[str, Any]], Request]] = {
    f.__name__: f
    for f in (user, product, inventory, cart, order, pay, coupon, checkin, seckill, notify, search, gateway)
}
