"""Inventory over HTTP against a real PostgreSQL."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("inventory") as c:
        yield c


def test_restock_then_read(client: TestClient) -> None:
    assert client.put("/stock/SKU-API-1", json={"available": 5}).status_code == 200
    reply = client.get("/stock/SKU-API-1")
    assert reply.json() == {"sku": "SKU-API-1", "available": 5, "reserved": 0, "committed": 0}
    assert reply.headers["x-service-version"] == "v1"


def test_reserve_is_idempotent_per_order(client: TestClient) -> None:
    client.put("/stock/SKU-API-2", json={"available": 5})
    body = {"order_id": "ord-api-2", "sku": "SKU-API-2", "quantity": 2}
    first, again = client.post("/reservations", json=body), client.post("/reservations", json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert client.get("/stock/SKU-API-2").json()["available"] == 3


def test_an_order_reserves_several_skus_and_settles_them_together(client: TestClient) -> None:
    for sku in ("SKU-API-5", "SKU-API-6"):
        client.put(f"/stock/{sku}", json={"available": 3})
        assert (
            client.post("/reservations", json={"order_id": "ord-api-5", "sku": sku, "quantity": 2}).status_code == 201
        )
    changed = client.post("/reservations", json={"order_id": "ord-api-5", "sku": "SKU-API-5", "quantity": 3})
    assert changed.status_code == 409
    released = client.post("/reservations/ord-api-5/release").json()
    assert [(r["sku"], r["state"]) for r in released] == [("SKU-API-5", "released"), ("SKU-API-6", "released")]
    assert client.post("/reservations/ord-api-5/release").status_code == 200
    assert client.get("/stock/SKU-API-6").json()["available"] == 3


def test_over_reserve_conflicts_and_changes_nothing(client: TestClient) -> None:
    client.put("/stock/SKU-API-3", json={"available": 1})
    reply = client.post("/reservations", json={"order_id": "ord-api-3", "sku": "SKU-API-3", "quantity": 2})
    assert reply.status_code == 409
    assert reply.json()["detail"]["field"] == "quantity"
    assert client.get("/stock/SKU-API-3").json()["available"] == 1


def test_commit_then_release_is_refused(client: TestClient) -> None:
    client.put("/stock/SKU-API-4", json={"available": 4})
    client.post("/reservations", json={"order_id": "ord-api-4", "sku": "SKU-API-4", "quantity": 4})
    assert [r["state"] for r in client.post("/reservations/ord-api-4/commit").json()] == ["committed"]
    assert client.post("/reservations/ord-api-4/release").status_code == 409
    assert client.get("/stock/SKU-API-4").json() == {"sku": "SKU-API-4", "available": 0, "reserved": 0, "committed": 4}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("put", "/stock/SKU-B", {"available": "many"}, 422, "available"),
        ("put", "/stock/SKU-B", {"available": -1}, 422, "available"),
        ("put", "/stock/SKU-B", {}, 422, "available"),
        ("put", "/stock/SKU-B", {"available": 1, "extra": 1}, 422, "extra"),
        ("put", "/stock/bad sku!", {"available": 1}, 422, "sku"),
        ("get", "/stock/NO-SUCH-SKU", None, 404, "sku"),
        ("post", "/reservations", {"order_id": "o", "sku": "SKU-B"}, 422, "quantity"),
        ("post", "/reservations", {"order_id": "o", "sku": "SKU-B", "quantity": 0}, 422, "quantity"),
        ("post", "/reservations", {"order_id": "o", "sku": "NO-SUCH-SKU", "quantity": 1}, 404, "sku"),
        ("post", "/reservations/no-such-order/commit", None, 404, "order_id"),
        ("post", "/reservations/o/explode", None, 422, "action"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    refused: Callable[..., None], method: str, path: str, body: dict[str, Any] | None, status: int, field: str
) -> None:
    refused(method, path, body, status, field)


def test_oversized_body_is_413(client: TestClient) -> None:
    reply = client.put(
        "/stock/SKU-B", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 413
    assert "larger than" in reply.json()["detail"]
