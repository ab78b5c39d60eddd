"""The checkout saga with the pay process killed (SIGKILL) while checkouts stream through it, then restarted:
every order ends paid once or cancelled, and the invariants across order, pay and inventory hold."""

from __future__ import annotations

import asyncio
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from conftest import AS_A, Running, start_service

from miniapp_services import invariants
from tools import pgtmp

ORDERS = 30


def test_pay_killed_mid_stream_loses_and_double_charges_nothing(upstreams: dict[str, Running], database: str) -> None:
    order, pay = upstreams["order"], upstreams["pay"]
    httpx.put(
        f"{upstreams['product'].url}/products/KILL-TEA",
        json={"title": "Tea", "price_cents": 100, "category": "k"},
        headers=AS_A,
    ).raise_for_status()
    httpx.put(f"{upstreams['inventory'].url}/stock/KILL-TEA", json={"available": 1000}, headers=AS_A).raise_for_status()
    ids = [f"kill-{time.time_ns()}-{i}" for i in range(ORDERS)]
    for order_id in ids:
        body = {"order_id": order_id, "user_id": 9, "lines": [{"sku": "KILL-TEA", "quantity": 1}]}
        assert httpx.post(f"{order.url}/orders", json=body, headers=AS_A).status_code == 201

    def checkout(order_id: str) -> int:
        try:
            return httpx.post(
                f"{order.url}/orders/{order_id}/checkout", json={"amount_cents": 100}, headers=AS_A, timeout=10
            ).status_code
        except httpx.HTTPError:
            return 0

    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = pool.map(checkout, ids)
        time.sleep(0.05)
        pay.process.send_signal(signal.SIGKILL)
        codes = list(replies)
    pay.process.wait()
    upstreams["pay"] = start_service(
        "pay", database, (pay.http_port, pay.grpc_port), dependencies={"order": order.target}
    )
    assert 503 in codes or 0 in codes, f"the kill came too late to interrupt any checkout: {codes}"

    deadline = time.monotonic() + 30
    while True:
        violations, unfinished = asyncio.run(invariants.check(pgtmp.as_superuser(database)))
        if not unfinished:
            break
        assert time.monotonic() < deadline, f"checkouts never finished: {unfinished}"
        time.sleep(0.5)
    assert not any(violations.values()), violations
    statuses = [httpx.get(f"{order.url}/orders/{i}", headers=AS_A).json()["status"] for i in ids]
    assert set(statuses) <= {"paid", "cancelled"}
    assert statuses.count("paid") == sum(
        httpx.get(f"{upstreams['pay'].url}/payments/{i}", headers=AS_A).status_code == 200 for i in ids
    )
