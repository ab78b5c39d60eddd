"""Notify against a real PostgreSQL: accepted at once, delivered by the background sender."""

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from miniapp_services.notify.domain import MAX_ATTEMPTS, Status, after_attempt, new_notification


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("notify") as c:
        yield c


def test_accepted_then_sent_in_the_background(client: TestClient) -> None:
    body = {"user_id": 11, "template": "order_paid", "data": {"order_id": "o-1", "amount": "9.90"}}
    accepted = client.post("/notifications", json=body)
    assert (accepted.status_code, accepted.json()["status"]) == (202, "queued")
    deadline = time.monotonic() + 10
    while client.get("/notifications", params={"user_id": 11}).json()[0]["status"] != "sent":
        assert time.monotonic() < deadline, "the sender did not deliver within 10 s"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user_id": 1, "template": "spam", "data": {}}, 400, "template"),
        ({"user_id": 1, "template": "order_paid", "data": {"order_id": "o"}}, 400, "data"),
        ({"user_id": 1, "template": "order_paid"}, 422, "data"),
        ({"user_id": 0, "template": "order_paid", "data": {}}, 422, "user_id"),
        ({"user_id": 1, "template": "checkin_reminder", "data": {"streak": 3}}, 422, "data"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    refused: Callable[..., None], body: dict[str, Any], status: int, field: str
) -> None:
    refused("post", "/notifications", body, status, field)


def test_retries_then_fails_for_good() -> None:
    n = replace(new_notification(1, "checkin_reminder", {"streak": "2"}), id=1)
    for attempt in range(1, MAX_ATTEMPTS):
        n = after_attempt(n, "timeout")
        assert (n.status, n.attempts) == (Status.QUEUED, attempt)
    assert after_attempt(n, "timeout").status == Status.FAILED
    assert after_attempt(n, None).status == Status.SENT
