"""Place, pay and cancel orders with product, inventory, order and pay all running and talking gRPC."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

TEA = {"title": "Tea", "price_cents": 250, "category": "flow"}


@dataclass
class Shop:
    product: TestClient
    inventory: TestClient
    order: TestClient
    pay: TestClient

    def stock(self, sku: str) -> dict:
        return self.inventory.get(f"/stock/{sku}").json()


def _target(client: TestClient) -> str:
    return f"127.0.0.1:{client.app.state.grpc_port}"


@pytest.fixture(scope="module")
def shop(make_client: Callable[..., TestClient]) -> Iterator[Shop]:
    with make_client("product") as product, make_client("inventory") as inventory:
        deps = {"product": _target(product), "inventory": _target(inventory)}
        with (
            make_client("order", dependencies=deps) as order,
            make_client("pay", dependencies={"order": _target(order)}) as pay,
        ):
            for sku, available in (("FLOW-TEA", 10), ("FLOW-CUP", 1)):
                product.put(f"/products/{sku}", json=TEA)
                inventory.put(f"/stock/{sku}", json={"available": available})
            yield Shop(product, inventory, order, pay)


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
