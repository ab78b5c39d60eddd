"""Product over HTTP and gRPC against a real PostgreSQL."""

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from conftest import GRPC_AS_A
from fastapi.testclient import TestClient

from miniapp_services.proto import product_pb2, product_pb2_grpc

TEA = {"title": "Green tea", "price_cents": 1200, "category": "drinks"}


@pytest.fixture(scope="module")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with make_client("product") as c:
        for sku, body in [
            ("TEA-1", TEA),
            ("TEA-2", TEA),
            ("TEA-3", {**TEA, "on_sale": False}),
            ("CUP-1", {**TEA, "category": "cups"}),
        ]:
            assert c.put(f"/products/{sku}", json=body).status_code == 200
        yield c


def test_detail_counts_a_page_view(client: TestClient) -> None:
    before = _page_views(client)
    assert client.get("/products/TEA-1").json() == {"sku": "TEA-1", "on_sale": True, **TEA}
    assert _page_views(client) == before + 1


def test_browse_pages_by_sku_and_hides_off_sale(client: TestClient) -> None:
    first = client.get("/products", params={"category": "drinks", "limit": 1}).json()
    rest = client.get("/products", params={"category": "drinks", "after": first[-1]["sku"]}).json()
    assert [p["sku"] for p in first + rest] == ["TEA-1", "TEA-2"]


def test_get_product_over_grpc(client: TestClient) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{client.app.state.grpc_port}") as channel:
        reply = product_pb2_grpc.ProductsStub(channel).GetProduct(
            product_pb2.GetProductRequest(sku="CUP-1"), metadata=GRPC_AS_A, timeout=2
        )
    assert (reply.category, reply.price_cents) == ("cups", 1200)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("put", "/products/X-1", {**TEA, "price_cents": 0}, 422, "price_cents"),
        ("put", "/products/X-1", {**TEA, "price_cents": "cheap"}, 422, "price_cents"),
        ("put", "/products/X-1", {"title": "t", "category": "c"}, 422, "price_cents"),
        ("put", "/products/X-1", {**TEA, "title": ""}, 422, "title"),
        ("put", "/products/X-1", {**TEA, "category": "a b"}, 422, "category"),
        ("put", "/products/X 1", TEA, 422, "sku"),
        ("get", "/products/NOPE", None, 404, "sku"),
        ("get", "/products?limit=0", None, 422, "limit"),
        ("get", "/products?limit=101", None, 422, "limit"),
        ("get", "/products?category=a%20b", None, 422, "category"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(
    refused: Callable[..., None], method: str, path: str, body: dict[str, Any] | None, status: int, field: str
) -> None:
    refused(method, path, body, status, field)


def _page_views(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("miniapp_business_events_total{") and 'event="page_view"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
