"""Property-based fuzz of the gateway's whole OpenAPI with Schemathesis (issue 19, item 2; fuzzing.py).

Unsigned, then signed by a session of TENANT_A. Unsigned, every protected operation is refused 401 and nothing
reaches an upstream: the gateway's upstreams are then a recording stand-in that counts what reached it. Signed,
every protected operation gets past 401 to the real upstream processes of the other gateway tests (search,
cart, coupon and seckill on a closed port, so their routes degrade to 503).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import SEEDED_SKU, SEEDED_STOCK, TENANT_A, TENANT_B, Running
from fastapi.testclient import TestClient
from fuzzing import fuzz, stateful

from miniapp_services.clients.signed import login
from miniapp_services.kit import tenancy

# Answered without a session: login, and the probes the kubelet and Prometheus call.
PUBLIC = ("POST /api/login", "GET /healthz", "GET /readyz", "GET /metrics")
# Signed, these operations' upstreams are down (a closed port): 503 is their documented, degraded answer.
DOWN = (
    "GET /api/search",
    "GET /api/cart",
    "PUT /api/cart/items/{sku}",
    "POST /api/coupons",
    "POST /api/seckill/{event_id}",
)
UPSTREAMS = ("user", "product", "search", "cart", "checkin", "order", "pay", "inventory", "coupon", "seckill", "notify")
CLOSED = "http://127.0.0.1:1"
# The upstreams whose tables a signed gateway call writes (cart, coupon and seckill are DOWN).
WRITTEN = ("checkin", "order", "pay", "inventory")
# Sequences of the gateway's stateful run: its one root is a checkout, placed when its generated order id passes
# (about 140 placed in 100 sequences), and a placed order is followed by a link in most of them.
SEQUENCES = 100
STOCK = 100  # the seeded product's stock at the start of each sequence: more than its checkouts take


@dataclass
class Recording:
    url: str
    seen: list[str]  # "METHOD path" of every request that reached it


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recording]:
    """An upstream stand-in on loopback: records each request that reaches it, answers 503."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Recording(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()


def test_unsigned_every_operation_is_refused_before_any_upstream(
    make_client: Callable[..., TestClient], recorder: Recording
) -> None:
    with make_client("gateway", upstreams=dict.fromkeys(UPSTREAMS, recorder.url)) as gateway:
        seen = fuzz(gateway)
    protected = {status for (label, status) in seen if label not in PUBLIC}
    assert protected == {401}, seen
    assert recorder.seen == []


def _urls(upstreams: dict[str, Running]) -> dict[str, str]:
    """The running upstreams, and a closed port for those DOWN calls."""
    return {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
        ("search", "cart", "coupon", "seckill"), CLOSED
    )


def test_signed_no_answer_is_a_server_error_or_off_schema(
    make_client: Callable[..., TestClient], upstreams: dict[str, Running]
) -> None:
    with make_client("gateway", upstreams=_urls(upstreams), http_timeout_s=2) as gateway:
        me = login(gateway, TENANT_A, "code-fuzz-1", "Fuzz")
        seen = fuzz(gateway, me, DOWN)
    admitted = {label for (label, status) in seen if label not in PUBLIC and status != 401}
    assert admitted == {o for (o, _) in seen if o not in PUBLIC}, seen  # every protected operation got past 401


def test_signed_sequences_chained_by_links_never_fail(
    make_client: Callable[..., TestClient],
    upstreams: dict[str, Running],
    empty_tables: Callable[[str], Callable[[], None]],
) -> None:
    """Schemathesis's stateful phase through the gateway, signed: the links it infers from the gateway's schema (an
    order placed, then read back, paid, its payment read) chain sequences through the real upstreams, each from
    their written tables emptied and the seeded stock put back, every answer checked as the single-call fuzz
    checks it. A generated checkout names the seeded product in its one line (its other fields stay generated),
    so that orders are placed and the links followed; the single-call fuzz covers made-up skus."""
    emptiers = [empty_tables(service) for service in WRITTEN]

    def reset(stock: int = STOCK) -> None:
        for empty in emptiers:
            empty()
        for tenant in (TENANT_A, TENANT_B):  # the tables are emptied for every tenant
            url, headers = f"{upstreams['inventory'].url}/stock/{SEEDED_SKU}", {tenancy.HEADER: tenant}
            httpx.put(url, json={"available": stock}, headers=headers).raise_for_status()

    with make_client("gateway", upstreams=_urls(upstreams), http_timeout_s=2) as gateway:
        me = login(gateway, TENANT_A, "code-fuzz-2", "Fuzz")
        seen = stateful(gateway, reset, me, DOWN, bodies=_seeded, scenarios=SEQUENCES)
    reset(
        stock=SEEDED_STOCK
    )  # no order of these sequences left for the other tests to meet, the stock as conftest seeded it
    called = {label for (label, _) in seen.called if label not in PUBLIC}
    admitted = {label for (label, status) in seen.called if label not in PUBLIC and status != 401}
    assert admitted == called, seen.called  # every protected operation in the sequences got past 401
    assert ("POST /api/orders", 201) in seen.called, seen.called
    read_back = sum(n for (link, status), n in seen.followed.items() if link.endswith("GET /api/orders/{order_id}"))
    assert read_back > 0, seen.followed  # an order placed in a sequence was read back through its link


def _seeded(operation: str, body: Any) -> Any:
    """A checkout's one line is one of the product the upstreams were seeded with (a sku twice in one order is
    refused, and a quantity beyond the stock is refused before any link can follow); its order id stays
    generated."""
    if operation != "POST /api/orders" or not isinstance(body, dict) or not isinstance(body.get("lines"), list):
        return body
    return {**body, "lines": [{"sku": SEEDED_SKU, "quantity": 1}]}
