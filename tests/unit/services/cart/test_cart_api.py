"""Cart against a real PostgreSQL and a real product service; unpriced, not failed, when product is down."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def product(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("product") as p:
        p.put("/products/CART-1", json={"title": "Mug", "price_cents": 300, "category": "cartcat"})
        p.put("/products/CART-2", json={"title": "Pen", "price_cents": 50, "category": "cartcat"})
        yield p


@pytest.fixture(scope="module")
def cart(make_client: Callable[..., TestClient], product: TestClient) -> Iterator[TestClient]:
    with make_client("cart", dependencies={"product": f"127.0.0.1:{product.app.state.grpc_port}"}) as c:
        yield c


def test_lines_are_priced_live(cart: TestClient) -> None:
    assert cart.put("/carts/5/items/CART-1", json={"quantity": 2}).status_code == 204
    assert cart.put("/carts/5/items/CART-2", json={"quantity": 3}).status_code == 204
    assert cart.put("/carts/5/items/CART-2", json={"quantity": 4}).status_code == 204
    shown = cart.get("/carts/5").json()
    assert shown["items"] == [
        {"sku": "CART-1", "quantity": 2, "unit_price_cents": 300},
        {"sku": "CART-2", "quantity": 4, "unit_price_cents": 50},
    ]
    assert (shown["total_cents"], shown["degraded"]) == (800, False)
    cart.put("/carts/5/items/CART-1", json={"quantity": 0})
    assert [i["sku"] for i in cart.get("/carts/5").json()["items"]] == ["CART-2"]
    assert cart.delete("/carts/5").status_code == 204
    assert cart.get("/carts/5").json()["items"] == []


def test_unknown_sku_is_not_added(cart: TestClient) -> None:
    reply = cart.put("/carts/6/items/NOPE", json={"quantity": 1})
    assert reply.status_code == 404
    assert "no product with sku 'NOPE'" in reply.json()["detail"]["msg"]
    assert cart.get("/carts/6").json()["items"] == []


def test_catalogue_down_shows_unpriced_lines(make_client: Callable[..., TestClient], cart: TestClient) -> None:
    cart.put("/carts/7/items/CART-1", json={"quantity": 1})
    with make_client("cart", dependencies={"product": "127.0.0.1:1"}, http_timeout_s=0.5) as orphan:
        shown = orphan.get("/carts/7").json()
        ready = orphan.get("/readyz")
    assert shown["items"] == [{"sku": "CART-1", "quantity": 1, "unit_price_cents": None}]
    assert (shown["total_cents"], shown["degraded"]) == (None, True)
    assert ready.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/carts/5/items/CART-1", {"quantity": -1}, "quantity"),
        ("/carts/5/items/CART-1", {"quantity": 100}, "quantity"),
        ("/carts/5/items/CART-1", {}, "quantity"),
        ("/carts/0/items/CART-1", {"quantity": 1}, "user_id"),
        ("/carts/5/items/a%20b", {"quantity": 1}, "sku"),
    ],
)
def test_bad_input_is_422_naming_the_field(cart: TestClient, path: str, body: dict, field: str) -> None:
    reply = cart.put(path, json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text
