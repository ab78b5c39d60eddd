"""Search against a real PostgreSQL's full-text search."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("search") as c:
        for sku, title, category in [
            ("S-1", "Green tea gift box", "drinks"),
            ("S-2", "Green tea", "drinks"),
            ("S-3", "Tea cup", "cups"),
            ("S-4", "Coffee beans", "drinks"),
        ]:
            assert c.put(f"/documents/{sku}", json={"title": title, "category": category}).status_code == 204
        yield c


def test_matches_every_word_ranked(client: TestClient) -> None:
    hits = client.get("/search", params={"q": "green  TEA"}).json()
    assert {h["sku"] for h in hits} == {"S-1", "S-2"}
    assert hits[0]["rank"] >= hits[1]["rank"]


def test_category_filter_and_limit(client: TestClient) -> None:
    assert [h["sku"] for h in client.get("/search", params={"q": "tea", "category": "cups"}).json()] == ["S-3"]
    assert len(client.get("/search", params={"q": "tea", "limit": 1}).json()) == 1


def test_reindex_and_remove(client: TestClient) -> None:
    client.put("/documents/S-4", json={"title": "Decaf coffee", "category": "drinks"})
    assert [h["sku"] for h in client.get("/search", params={"q": "decaf"}).json()] == ["S-4"]
    assert client.delete("/documents/S-4").status_code == 204
    assert client.get("/search", params={"q": "decaf"}).json() == []
    assert client.delete("/documents/S-4").status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [({"q": "   "}, 400, "q"), ({}, 422, "q"), ({"q": "tea", "limit": 51}, 422, "limit"), ({"q": "x" * 200}, 422, "q")],
)
def test_bad_query_is_4xx_naming_the_field(client: TestClient, params: dict, status: int, field: str) -> None:
    reply = client.get("/search", params=params)
    assert reply.status_code == status, reply.text
    assert field in reply.text
