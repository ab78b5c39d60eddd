"""Coupon against a real PostgreSQL: limited, one per user, spent on one order."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

TEMPLATE = {"discount_cents": 500, "min_total_cents": 2000, "total": 3}


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("coupon", max_concurrency=200) as c:
        assert c.put("/coupons/C-LIMITED", json=TEMPLATE).status_code == 201
        assert c.put("/coupons/C-OPEN", json={**TEMPLATE, "total": 100}).status_code == 201
        yield c


def test_never_more_claims_than_coupons(client: TestClient) -> None:
    claim = lambda user: client.post("/claims", json={"code": "C-LIMITED", "user_id": user}).status_code  # noqa: E731
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(claim, range(1, 21)))
    assert (codes.count(201), codes.count(409)) == (3, 17)


def test_one_claim_per_user_and_listed(client: TestClient) -> None:
    assert client.post("/claims", json={"code": "C-OPEN", "user_id": 77}).status_code == 201
    again = client.post("/claims", json={"code": "C-OPEN", "user_id": 77})
    assert (again.status_code, again.json()["detail"]["field"]) == (409, "user_id")
    assert client.get("/claims/77").json() == [{"code": "C-OPEN", "user_id": 77, "order_id": None}]


def test_redeem_once_per_order(client: TestClient) -> None:
    client.post("/claims", json={"code": "C-OPEN", "user_id": 78})
    body = {"code": "C-OPEN", "user_id": 78, "order_id": "o-78", "order_total_cents": 2500}
    first, again = client.post("/redemptions", json=body), client.post("/redemptions", json=body)
    assert first.json()["discount_cents"] == again.json()["discount_cents"] == 500
    other = client.post("/redemptions", json={**body, "order_id": "o-79"})
    assert (other.status_code, other.json()["detail"]["field"]) == (409, "code")


def test_minimum_total_applies(client: TestClient) -> None:
    client.post("/claims", json={"code": "C-OPEN", "user_id": 80})
    reply = client.post(
        "/redemptions", json={"code": "C-OPEN", "user_id": 80, "order_id": "o-80", "order_total_cents": 100}
    )
    assert (reply.status_code, reply.json()["detail"]["field"]) == (409, "order_total_cents")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("put", "/coupons/C-X", {**TEMPLATE, "total": 0}, 422, "total"),
        ("put", "/coupons/C-X", {"total": 1}, 422, "discount_cents"),
        ("put", "/coupons/C-LIMITED", TEMPLATE, 409, "code"),
        ("post", "/claims", {"code": "NOPE", "user_id": 1}, 404, "code"),
        ("post", "/claims", {"code": "C-OPEN", "user_id": "x"}, 422, "user_id"),
        (
            "post",
            "/redemptions",
            {"code": "C-OPEN", "user_id": 999, "order_id": "o", "order_total_cents": 5000},
            404,
            "code",
        ),
        ("post", "/redemptions", {"code": "C-OPEN", "user_id": 1, "order_id": "o"}, 422, "order_total_cents"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    refused: Callable[..., None], method: str, path: str, body: dict[str, Any] | None, status: int, field: str
) -> None:
    refused(method, path, body, status, field)
