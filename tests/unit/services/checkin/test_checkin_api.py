"""Check-in over HTTP against a real PostgreSQL, with the service's clock moved by the test."""

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from miniapp_services.checkin.interface import today

DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("checkin") as c:
        yield c


def _on(client: TestClient, day: date) -> None:
    client.app.dependency_overrides[today] = lambda: day


def test_streak_points_and_history(client: TestClient) -> None:
    replies = []
    for offset in range(3):
        _on(client, DAY + timedelta(days=offset))
        replies.append(client.post("/checkins", json={"user_id": 41}).json())
    assert [(r["streak"], r["points"]) for r in replies] == [(1, 10), (2, 20), (3, 30)]
    history = client.get("/checkins/41", params={"days": 2}).json()
    assert history == {"user_id": 41, "days": ["2026-11-22", "2026-11-21"], "streak": 3}


def test_second_check_in_same_day_conflicts(client: TestClient) -> None:
    _on(client, DAY)
    assert client.post("/checkins", json={"user_id": 42}).status_code == 201
    again = client.post("/checkins", json={"user_id": 42})
    assert again.status_code == 409
    assert again.json()["detail"]["field"] == "user_id"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/checkins", {}, "user_id"),
        ("post", "/checkins", {"user_id": 0}, "user_id"),
        ("post", "/checkins", {"user_id": "me"}, "user_id"),
        ("post", "/checkins", {"user_id": 1, "day": "2026-01-01"}, "day"),
        ("get", "/checkins/1?days=0", None, "days"),
        ("get", "/checkins/-4", None, "user_id"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, method: str, path: str, body: dict | None, field: str
) -> None:
    reply = client.request(method, path, json=body)
    assert reply.status_code == 422, reply.text
    assert field in reply.text
