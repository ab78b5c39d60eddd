"""Place, pay and cancel orders with product, inventory, order and pay all running and talking gRPC, and the
checkout saga: charged once, pay failing at each step, confirm failing, a charge whose answer was lost; unpaid
orders expired at their payment deadline."""

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import pytest
from conftest import GRPC_AS_A, TENANT_A
from fastapi.testclient import TestClient
from sqlalchemy import text

from miniapp_services import invariants
from miniapp_services.kit.db import engine as db_engine
from miniapp_services.proto import pay_pb2, pay_pb2_grpc
from tools import pgtmp

TEA = {"title": "Tea", "price_cents": 250, "category": "flow"}


@dataclass
class Shop:
    product: TestClient
    inventory: TestClient
    order: TestClient
    pay: TestClient
    pay_port: int

    def stock(self, sku: str) -> dict:
        return self.inventory.get(f"/stock/{sku}").json()


def _target(client: TestClient) -> str:
    return f"127.0.0.1:{client.app.state.grpc_port}"


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """This module's own PostgreSQL: the saga's recovery loop must not meet the session's order processes,
    which would finish these checkouts against their own pay."""
    with pgtmp.postgres() as url:
        yield url


@pytest.fixture(scope="module")
def shop(make_client: Callable[..., TestClient], own_database: str) -> Iterator[Shop]:
    make = functools.partial(make_client, database_url=own_database)
    with make("product") as product, make("inventory") as inventory:
        pay_port = pgtmp.free_port()
        deps = {"product": _target(product), "inventory": _target(inventory), "pay": f"127.0.0.1:{pay_port}"}
        with (
            make("order", dependencies=deps) as order,
            make("pay", dependencies={"order": _target(order)}, grpc_port=pay_port, faults_enabled=True) as pay,
        ):
            for sku, available in (("FLOW-TEA", 10), ("FLOW-CUP", 1)):
                product.put(f"/products/{sku}", json=TEA)
                inventory.put(f"/stock/{sku}", json={"available": available})
            yield Shop(product, inventory, order, pay, pay_port)


def _place(shop: Shop, order_id: str, **lines: int) -> object:
    body = {"order_id": order_id, "user_id": 7, "lines": [{"sku": s, "quantity": q} for s, q in lines.items()]}
    return shop.order.post("/orders", json=body)


def test_place_pay_once_and_commit_stock(shop: Shop) -> None:
    placed = _place(shop, "flow-1", **{"FLOW-TEA": 2})
    assert placed.status_code == 201
    assert (placed.json()["total_cents"], placed.json()["status"]) == (500, "pending_payment")
    assert shop.stock("FLOW-TEA")["reserved"] == 2
    first = shop.pay.post("/payments", json={"order_id": "flow-1", "amount_cents": 500})
    again = shop.pay.post("/payments", json={"order_id": "flow-1", "amount_cents": 500})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["payment_id"] == again.json()["payment_id"]
    paid = shop.order.get("/orders/flow-1").json()
    assert (paid["status"], paid["payment_id"]) == ("paid", first.json()["payment_id"])
    assert shop.stock("FLOW-TEA")["committed"] == 2
    assert 'event="order_paid",service="order",version="v1"} 1.0' in shop.order.get("/metrics").text


def test_retry_of_a_placement_is_the_same_order(shop: Shop) -> None:
    first, again = _place(shop, "flow-2", **{"FLOW-TEA": 1}), _place(shop, "flow-2", **{"FLOW-TEA": 1})
    assert (first.status_code, again.status_code) == (201, 200)
    assert _place(shop, "flow-2", **{"FLOW-TEA": 3}).status_code == 409
    assert shop.stock("FLOW-TEA")["reserved"] == 1


def test_short_stock_compensates_every_line(shop: Shop) -> None:
    before = shop.stock("FLOW-TEA")
    reply = _place(shop, "flow-3", **{"FLOW-TEA": 1, "FLOW-CUP": 2})
    assert reply.status_code == 409
    assert "available" in reply.text
    assert shop.stock("FLOW-TEA") == before
    assert shop.order.get("/orders/flow-3").status_code == 404


def test_cancel_releases_and_cannot_be_paid(shop: Shop) -> None:
    _place(shop, "flow-4", **{"FLOW-CUP": 1})
    assert shop.order.post("/orders/flow-4/cancel").json()["status"] == "cancelled"
    assert shop.stock("FLOW-CUP")["available"] == 1
    refused = shop.pay.post("/payments", json={"order_id": "flow-4", "amount_cents": 250})
    assert refused.status_code == 409
    assert shop.pay.get("/payments/flow-4").status_code == 404


def test_wrong_amount_is_refused_naming_it(shop: Shop) -> None:
    _place(shop, "flow-5", **{"FLOW-TEA": 1})
    reply = shop.pay.post("/payments", json={"order_id": "flow-5", "amount_cents": 1})
    assert reply.status_code == 409
    assert reply.json()["detail"]["field"] == "amount_cents"


def test_unknown_sku_is_404_and_unknown_order_cannot_be_paid(shop: Shop) -> None:
    assert _place(shop, "flow-6", **{"NOPE": 1}).status_code == 404
    assert shop.pay.post("/payments", json={"order_id": "flow-nope", "amount_cents": 5}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order_id": "x", "user_id": 1, "lines": []}, "lines"),
        ({"order_id": "x", "user_id": 1, "lines": [{"sku": "A", "quantity": 100}]}, "quantity"),
        ({"order_id": "x y", "user_id": 1, "lines": [{"sku": "A", "quantity": 1}]}, "order_id"),
        ({"order_id": "x", "user_id": "me", "lines": [{"sku": "A", "quantity": 1}]}, "user_id"),
        ({"order_id": "x", "user_id": 1, "lines": [{"sku": "A"}]}, "quantity"),
        ({"order_id": "x", "user_id": 1, "lines": [{"sku": "A", "quantity": 1}] * 21}, "lines"),
    ],
)
def test_bad_order_input_is_422_naming_the_field(shop: Shop, body: dict, field: str) -> None:
    reply = shop.order.post("/orders", json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order_id": "x"}, "amount_cents"),
        ({"order_id": "x", "amount_cents": 0}, "amount_cents"),
        ({"amount_cents": 5}, "order_id"),
    ],
)
def test_bad_payment_input_is_422_naming_the_field(shop: Shop, body: dict, field: str) -> None:
    reply = shop.pay.post("/payments", json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text


# The checkout saga: order orchestrates, pay answers on a bidirectional gRPC stream; after each case the
# invariants across order, pay and inventory hold.


def _checkout(shop: Shop, order_id: str, amount: int, client: TestClient | None = None) -> object:
    return (client or shop.order).post(f"/orders/{order_id}/checkout", json={"amount_cents": amount})


def _status(shop: Shop, order_id: str) -> str:
    return shop.order.get(f"/orders/{order_id}").json()["status"]


def _wait_status(shop: Shop, order_id: str, wanted: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while _status(shop, order_id) != wanted:
        assert time.monotonic() < deadline, f"{order_id} stayed {_status(shop, order_id)}, not {wanted}"
        time.sleep(0.2)


def _invariants_hold(database: str) -> None:
    found, _ = asyncio.run(invariants.check(pgtmp.as_superuser(database)))
    assert not any(found.values()), found


def _settle_charge(shop: Shop, order_id: str, amount: int) -> str:
    """Charge on pay's saga stream directly, as order's stream would (the answer then lost to order)."""

    async def charge() -> str:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{shop.pay_port}") as channel:
            stream = pay_pb2_grpc.PaymentsStub(channel).Settle(metadata=GRPC_AS_A)
            charge = pay_pb2.Charge(amount_cents=amount)
            await stream.write(pay_pb2.SettleStep(order_id=order_id, idempotency_key=order_id, charge=charge))
            await stream.done_writing()
            return (await stream.read()).payment_id

    return asyncio.run(charge())


async def _set_status(database: str, order_id: str, status: str) -> None:
    engine = db_engine(pgtmp.as_superuser(database))
    async with engine.begin() as db:
        update = 'update "order"."order" set status = :status where order_id = :order_id'
        await db.execute(text(update), {"status": status, "order_id": order_id})
    await engine.dispose()


def test_checkout_charges_once_and_confirms(shop: Shop, own_database: str) -> None:
    _place(shop, "saga-1", **{"FLOW-TEA": 1})
    first, again = _checkout(shop, "saga-1", 250), _checkout(shop, "saga-1", 250)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["payment_id"] == again.json()["payment_id"]
    assert shop.pay.get("/payments/saga-1").json()["status"] == "succeeded"
    assert _checkout(shop, "saga-1", 999).status_code == 409
    _invariants_hold(own_database)


def test_pay_failing_at_the_charge_leaves_the_order_to_recovery(shop: Shop, own_database: str) -> None:
    _place(shop, "saga-2", **{"FLOW-TEA": 1})
    shop.pay.put("/admin/faults", json={"error_rate": 1.0})
    try:
        assert _checkout(shop, "saga-2", 250).status_code == 503
        assert _status(shop, "saga-2") == "charging"
    finally:
        shop.pay.delete("/admin/faults")
    _wait_status(shop, "saga-2", "paid")
    assert shop.pay.get("/payments/saga-2").json()["status"] == "succeeded"
    _invariants_hold(own_database)


def test_confirm_failing_refunds_releases_and_cancels(
    shop: Shop, own_database: str, make_client: Callable[..., TestClient]
) -> None:
    _place(shop, "saga-3", **{"FLOW-TEA": 2})
    before = shop.stock("FLOW-TEA")
    cut_off = {"product": _target(shop.product), "inventory": "127.0.0.1:1", "pay": f"127.0.0.1:{shop.pay_port}"}
    with make_client("order", dependencies=cut_off, database_url=own_database) as without_inventory:
        assert _checkout(shop, "saga-3", 500, without_inventory).status_code == 503
    assert _status(shop, "saga-3") == "compensating"
    assert shop.pay.get("/payments/saga-3").json()["status"] == "refunded"
    _wait_status(shop, "saga-3", "cancelled")
    after = shop.stock("FLOW-TEA")
    assert (after["reserved"], after["available"]) == (before["reserved"] - 2, before["available"] + 2)
    _invariants_hold(own_database)


def test_a_charge_whose_answer_was_lost_is_never_charged_twice(shop: Shop, own_database: str) -> None:
    """pay dies after charging, before order reads the answer: the resumed saga gets the same payment."""
    _place(shop, "saga-4", **{"FLOW-TEA": 1})
    shop.pay.put("/admin/faults", json={"error_rate": 1.0})
    try:
        assert _checkout(shop, "saga-4", 250).status_code == 503  # order now waits in CHARGING
    finally:
        shop.pay.delete("/admin/faults")

    lost_payment = _settle_charge(shop, "saga-4", 250)
    _wait_status(shop, "saga-4", "paid")
    assert shop.order.get("/orders/saga-4").json()["payment_id"] == lost_payment
    _invariants_hold(own_database)


@pytest.mark.usefixtures("shop")
def test_the_checker_reports_drift(own_database: str) -> None:
    async def nudge(delta: int) -> None:
        engine = db_engine(pgtmp.as_superuser(own_database))
        update = "update inventory.stock set reserved = reserved + :delta where sku = 'FLOW-CUP'"
        async with engine.begin() as db:
            await db.execute(text(update), {"delta": delta})
        await engine.dispose()

    asyncio.run(nudge(1))
    try:
        found, _ = asyncio.run(invariants.check(pgtmp.as_superuser(own_database)))
        assert found["stock drift (counters disagree with reservations)"] == [f"{TENANT_A}/FLOW-CUP"]
    finally:
        asyncio.run(nudge(-1))
    _invariants_hold(own_database)


def test_pay_failing_at_the_refund_leaves_compensation_to_recovery(shop: Shop, own_database: str) -> None:
    """A confirm failed after the charge (the order is COMPENSATING) and pay fails the refund: the order
    waits, refund unanswered, until pay answers again; then it is refunded, released and cancelled."""
    _place(shop, "saga-5", **{"FLOW-TEA": 1})
    _settle_charge(shop, "saga-5", 250)
    shop.pay.put("/admin/faults", json={"error_rate": 1.0})
    try:
        asyncio.run(_set_status(own_database, "saga-5", "compensating"))
        time.sleep(5)  # two recovery rounds, each refund refused by the fault
        assert _status(shop, "saga-5") == "compensating"
    finally:
        shop.pay.delete("/admin/faults")
    _wait_status(shop, "saga-5", "cancelled")
    assert shop.pay.get("/payments/saga-5").json()["status"] == "refunded"
    _invariants_hold(own_database)


def _order_deps(shop: Shop) -> dict[str, str]:
    return {"product": _target(shop.product), "inventory": _target(shop.inventory), "pay": f"127.0.0.1:{shop.pay_port}"}


async def _overdue(database: str, order_id: str) -> None:
    """Move an order's deadline into the past, as if it had been placed long ago."""
    engine = db_engine(pgtmp.as_superuser(database))
    async with engine.begin() as db:
        update = """update "order"."order" set pay_by = now() - interval '5 minutes' where order_id = :order_id"""
        await db.execute(text(update), {"order_id": order_id})
    await engine.dispose()


def test_an_unpaid_order_is_cancelled_at_its_deadline_and_its_stock_released(
    shop: Shop, make_client: Callable[..., TestClient], own_database: str
) -> None:
    before = shop.stock("FLOW-TEA")
    deps = _order_deps(shop)
    with make_client("order", database_url=own_database, dependencies=deps, payment_deadline_s=1) as timed:
        body = {"order_id": "late-1", "user_id": 7, "lines": [{"sku": "FLOW-TEA", "quantity": 2}]}
        placed = timed.post("/orders", json=body).json()
        assert placed["status"] == "pending_payment"
        assert placed["pay_by"] is not None
        assert shop.stock("FLOW-TEA")["reserved"] == before["reserved"] + 2
        _wait_status(shop, "late-1", "cancelled", timeout_s=10)
        assert 'event="order_expired",service="order",version="v1"} 1.0' in timed.get("/metrics").text
    assert shop.stock("FLOW-TEA") == before
    assert _checkout(shop, "late-1", 500).status_code == 409
    _invariants_hold(own_database)


def test_an_expiry_cut_short_after_its_release_is_finished_once_by_the_next_process(
    shop: Shop, make_client: Callable[..., TestClient], own_database: str
) -> None:
    """The process that released the stock died before it saved the order: the next one (a restart, the
    other replica) finds the order still due, repeats the release harmlessly and cancels it."""
    _place(shop, "late-2", **{"FLOW-TEA": 1})
    released = shop.inventory.post("/reservations/late-2/release")
    assert [r["state"] for r in released.json()] == ["released"]
    after_release = shop.stock("FLOW-TEA")
    asyncio.run(_overdue(own_database, "late-2"))
    with make_client("order", database_url=own_database, dependencies=_order_deps(shop), payment_deadline_s=1):
        _wait_status(shop, "late-2", "cancelled", timeout_s=10)
    assert shop.stock("FLOW-TEA") == after_release
    _invariants_hold(own_database)


def test_the_checker_reports_stock_held_past_the_deadline(shop: Shop, own_database: str) -> None:
    """The module's own order app has no deadline: nothing sweeps, so the checker must see the held stock."""
    _place(shop, "late-3", **{"FLOW-TEA": 1})
    asyncio.run(_overdue(own_database, "late-3"))
    found, _ = asyncio.run(invariants.check(pgtmp.as_superuser(own_database)))
    assert found["reservations held past the payment deadline"] == [f"{TENANT_A}/late-3"]
    assert shop.order.post("/orders/late-3/cancel").json()["status"] == "cancelled"
    _invariants_hold(own_database)
