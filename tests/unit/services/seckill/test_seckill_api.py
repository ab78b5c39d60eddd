"""Flash sale against a real PostgreSQL: never more winners than stock, one win per user, only while open."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from miniapp_services.seckill.interface import now

T0 = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
EVENT = {
    "sku": "FS-1",
    "price_cents": 990,
    "starts_at": T0.isoformat(),
    "ends_at": (T0 + timedelta(minutes=10)).isoformat(),
}


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("seckill", max_concurrency=200) as c:
        c.app.dependency_overrides[now] = lambda: T0 + timedelta(minutes=1)
        yield c


def test_a_crowd_gets_exactly_the_stock(client: TestClient) -> None:
    assert client.put("/seckill/events/fs-crowd", json={**EVENT, "stock": 10}).status_code == 201
    attempt = lambda user: client.post("/seckill/events/fs-crowd/attempts", json={"user_id": user}).status_code  # noqa: E731
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(attempt, [u % 40 + 1 for u in range(60)]))
    assert codes.count(201) == 10
    assert set(codes) == {201, 409}
    assert client.get("/seckill/events/fs-crowd").json()["remaining"] == 0
    scraped = client.get("/metrics").text
    assert 'event="seckill_success",service="seckill",version="v1"} 10.0' in scraped
    assert 'miniapp_stock_remaining{item="fs-crowd",service="seckill"} 0.0' in scraped


def test_one_win_per_user(client: TestClient) -> None:
    client.put("/seckill/events/fs-once", json={**EVENT, "stock": 5})
    assert client.post("/seckill/events/fs-once/attempts", json={"user_id": 3}).status_code == 201
    again = client.post("/seckill/events/fs-once/attempts", json={"user_id": 3})
    assert (again.status_code, again.json()["detail"]["field"]) == (409, "user_id")
    assert client.get("/seckill/events/fs-once").json()["remaining"] == 4


@pytest.mark.parametrize(
    ("offset", "words"), [(timedelta(minutes=-1), "opens at"), (timedelta(minutes=10), "ended at")]
)
def test_closed_sale_refuses(client: TestClient, offset: timedelta, words: str) -> None:
    client.put("/seckill/events/fs-window", json={**EVENT, "stock": 5})
    client.app.dependency_overrides[now] = lambda: T0 + offset
    try:
        reply = client.post("/seckill/events/fs-window/attempts", json={"user_id": 1})
    finally:
        client.app.dependency_overrides[now] = lambda: T0 + timedelta(minutes=1)
    assert reply.status_code == 409
    assert words in reply.text


def test_events_are_not_edited(client: TestClient) -> None:
    client.put("/seckill/events/fs-fixed", json={**EVENT, "stock": 5})
    assert client.put("/seckill/events/fs-fixed", json={**EVENT, "stock": 50}).status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({**EVENT, "stock": 0}, 422, "stock"),
        ({**EVENT, "stock": 1, "starts_at": "2026-11-26T21:00:00"}, 422, "starts_at"),
        ({**EVENT, "stock": 1, "ends_at": T0.isoformat()}, 400, "ends_at"),
        ({**EVENT, "stock": 1, "price_cents": "free"}, 422, "price_cents"),
        ({"stock": 1}, 422, "sku"),
    ],
)
def test_bad_event_is_4xx_naming_the_field(client: TestClient, body: dict, status: int, field: str) -> None:
    reply = client.put("/seckill/events/fs-bad", json=body)
    assert reply.status_code == status, reply.text
    assert field in reply.text


def test_unknown_event_and_bad_attempt(client: TestClient) -> None:
    assert client.post("/seckill/events/nope/attempts", json={"user_id": 1}).status_code == 404
    assert "user_id" in client.post("/seckill/events/nope/attempts", json={"user_id": -1}).text
