"""One signed checkout's trace across the gateway, order, pay and inventory (issue 21, item 3): each service a
real process (the gateway in this one) exporting over OTLP/HTTP to a receiver stand-in (tools/otlp_receiver.py;
Tempo cannot run here). Head sampling by path: only the checkout's path is sampled here, so the login and the
order placed before it leave no trace, and the checkout's spans are one trace with each hop's parent the span
that called it, across pay's Settle stream too."""

import os
import secrets
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import SEEDED_SKU, TENANT_A, Running, start_service
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import login
from miniapp_services.kit import tenancy
from tools import otlp_receiver, pgtmp

SERVER = 2  # OTLP's SpanKind.SPAN_KIND_SERVER
TRACED = {"/api/payments": 1.0}  # the hot path; every other path's ratio is 0 here


@pytest.fixture(scope="module")
def received() -> Iterator[otlp_receiver.Received]:
    """The receiver, and every process started meanwhile sending its batches within 0.1 s."""
    before = os.environ.get("OTEL_BSP_SCHEDULE_DELAY")
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "100"
    try:
        with otlp_receiver.receiver() as found:
            yield found
    finally:
        os.environ.pop("OTEL_BSP_SCHEDULE_DELAY")
        if before is not None:
            os.environ["OTEL_BSP_SCHEDULE_DELAY"] = before


@pytest.fixture(scope="module")
def traced(database: str, received: otlp_receiver.Received) -> Iterator[dict[str, Running]]:
    """user, product, inventory, order and pay as processes, exporting, never starting a trace themselves."""
    tracing = {"otlp_traces_endpoint": received.endpoint, "trace_sample_ratio": 0.0}
    started: dict[str, Running] = {}
    try:
        for name in ("user", "product", "inventory"):
            started[name] = start_service(name, database, **tracing)
        pay_ports = (pgtmp.free_port(), pgtmp.free_port())
        deps = {"product": started["product"].target, "inventory": started["inventory"].target}
        deps["pay"] = f"127.0.0.1:{pay_ports[1]}"
        started["order"] = start_service("order", database, dependencies=deps, **tracing)
        order = {"order": started["order"].target}
        started["pay"] = start_service("pay", database, pay_ports, dependencies=order, **tracing)
        yield started
    finally:
        for running in started.values():
            running.stop()


def _checkout(make_client: Callable[..., TestClient], traced: dict[str, Running], endpoint: str) -> str:
    """Log in, place an order, pay it, through the gateway; the order's id."""
    urls = {name: f"http://127.0.0.1:{pgtmp.free_port()}" for name in ("search", "cart", "coupon", "checkin")}
    urls |= {"seckill": urls["search"], "notify": urls["search"]} | {n: r.url for n, r in traced.items()}
    order_id = f"traced-{secrets.token_hex(4)}"
    gateway = make_client(
        "gateway", upstreams=urls, otlp_traces_endpoint=endpoint, trace_sample_ratio=0.0, trace_hot_paths=TRACED
    )
    with gateway as client:  # leaving it shuts the gateway down, which sends its last spans
        session = login(client, TENANT_A, "code-traces")
        placed = client.post("/api/orders", json={"order_id": order_id, "lines": [{"sku": SEEDED_SKU, "quantity": 1}]},
                             auth=session)  # fmt: skip
        assert placed.status_code == 201, placed.text
        paid = client.post("/api/payments", json={"order_id": order_id, "amount_cents": 300}, auth=session)
        assert paid.status_code == 201, paid.text
    return order_id


def test_one_checkout_is_one_trace_through_order_pay_and_inventory(
    make_client: Callable[..., TestClient], traced: dict[str, Running], received: otlp_receiver.Received
) -> None:
    as_a = {tenancy.HEADER: TENANT_A}
    httpx.put(f"{traced['product'].url}/products/{SEEDED_SKU}", json={"title": "Tea", "price_cents": 300,
              "category": "gw"}, headers=as_a).raise_for_status()  # fmt: skip
    httpx.put(f"{traced['inventory'].url}/stock/{SEEDED_SKU}", json={"available": 5}, headers=as_a).raise_for_status()
    _checkout(make_client, traced, received.endpoint)
    (root,) = [s for s in received.spans if s.name == "POST /api/payments"]
    spans = _until(received, root.trace_id, {"gateway", "order", "pay", "inventory"})
    assert root.parent_span_id == ""
    assert (root.service, root.kind) == ("gateway", SERVER)
    (order,) = [s for s in spans if s.service == "order"]
    assert order.name.startswith("POST /orders/")
    assert order.parent_span_id == root.span_id
    settle = {s.name: s for s in spans if s.service == "pay"}
    assert settle["Payments.Settle"].parent_span_id == order.span_id  # across the gRPC stream
    assert settle["Payments.Settle charge"].parent_span_id == settle["Payments.Settle"].span_id
    (stock,) = [s for s in spans if s.service == "inventory"]
    assert stock.parent_span_id == order.span_id
    # Only the hot path was sampled: the login and the order placed before the checkout left no span.
    assert {s.trace_id for s in received.spans} == {root.trace_id}


def _until(received: otlp_receiver.Received, trace_id: str, services: set[str]) -> list[otlp_receiver.Span]:
    """The trace's spans once every service has sent its part (each sends within 0.1 s of a span ending)."""
    for _ in range(100):
        found = received.of_trace(trace_id)
        if {s.service for s in found} >= services:
            return found
        time.sleep(0.1)
    pytest.fail(f"trace {trace_id}: only {sorted({s.service for s in received.of_trace(trace_id)})} sent spans")
