"""The edge every service shares, on a bare service with one route (no database needed but for /readyz)."""

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest
from conftest import TENANT_A
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from miniapp_services.kit import faults, tenancy
from miniapp_services.kit.app import ServiceSpec, create_app
from miniapp_services.kit.logs import JsonFormatter, trace_ids
from miniapp_services.kit.settings import get_settings
from miniapp_services.kit.tracing import current_release_tag

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
gate = asyncio.Event()


def _router() -> APIRouter:
    api = APIRouter()

    @api.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        trace_id, span_id = trace_ids()
        tenant = tenancy.current.get()
        return {
            "item": item_id,
            "trace_id": trace_id,
            "span_id": span_id,
            "tag": current_release_tag.get(),
            "tenant": tenant,
        }

    @api.get("/slow")
    async def slow() -> dict:
        await gate.wait()
        return {}

    return api


SPEC = ServiceSpec("search", "bare", _router, MetaData(schema="bare"), Path("/nonexistent"), requires=("product",))


def _app(database: str = "postgresql+asyncpg://u@127.0.0.1:1/x", **overrides: object):
    overrides.setdefault("dependencies", {"product": "127.0.0.1:1"})
    settings = get_settings(service="search", version="v2", database_url=database, **overrides)
    return create_app(SPEC, settings)


def _client(app: object) -> TestClient:
    """As the gateway calls a service: naming the tenant it serves."""
    return TestClient(app, headers={tenancy.HEADER: TENANT_A})


def test_version_header_trace_context_and_release_tag() -> None:
    with _client(_app()) as client:
        reply = client.get("/items/7", headers={"traceparent": TRACEPARENT, "x-release-tag": "canary"})
    body = reply.json()
    assert reply.headers["x-service-version"] == "v2"
    assert (body["trace_id"], body["tag"], body["tenant"]) == (TRACE_ID, "canary", TENANT_A)
    assert body["span_id"] != "00f067aa0ba902b7"


def test_request_headers_beyond_the_bound_are_431_and_the_probes_still_answer() -> None:
    with _client(_app(max_header_bytes=2048)) as client:
        assert client.get("/items/1", headers={"x-pad": "a" * 1500}).status_code == 200
        refused = client.get("/items/1", headers={"x-pad": "a" * 2100})
        many = client.get("/items/1", headers={f"x-pad-{n}": "a" * 100 for n in range(30)})
        probe = client.get("/healthz", headers={"x-pad": "a" * 2100})
    assert (refused.status_code, many.status_code, probe.status_code) == (431, 431, 200)
    assert "larger than 2048 bytes" in refused.text


def test_metrics_by_route_template() -> None:
    with _client(_app()) as client:
        client.get("/items/1")
        client.get("/items/2")
        client.get("/items/x")
        text = client.get("/metrics").text
    assert (
        'miniapp_http_requests_total{code="200",method="GET",route="/items/{item_id}",service="search",version="v2"} 2.0'
        in text
    )
    assert 'code="422",method="GET",route="/items/{item_id}"' in text


def test_missing_dependency_target_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="set MINIAPP_DEPENDENCIES__PRODUCT=host:port"):
        _app(dependencies={})


def test_faults_off_unless_enabled() -> None:
    with _client(_app()) as client:
        assert client.put("/admin/faults", json={"error_rate": 1}).status_code == 404


def test_injected_faults_spare_the_probes() -> None:
    with _client(_app(faults_enabled=True)) as client:
        assert client.put("/admin/faults", json={"error_rate": 1, "status": 502}).status_code == 200
        assert client.get("/items/1").status_code == 502
        assert client.get("/healthz").status_code == 200
        assert client.put("/admin/faults", json={"error_rate": 2}).status_code == 422
        client.delete("/admin/faults")
        assert client.get("/items/1").status_code == 200


def test_a_hang_answers_then_blocks_the_event_loop_for_its_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hang fault (a deadlock's stand-in, for the lab's liveness probes): its PUT is answered, then the
    event loop itself runs a blocking sleep of HANG_S, so nothing, the probes included, could answer."""
    blocked: list[float] = []
    monkeypatch.setattr(faults.time, "sleep", blocked.append)
    monkeypatch.setattr(faults, "HANG_AFTER_S", 0)
    with _client(_app(faults_enabled=True)) as client:
        assert client.put("/admin/faults", json={"hang": True}).json()["hang"] is True
        assert client.get("/healthz").status_code == 200  # the loop has turned since: the sleep has run on it
        assert blocked == [faults.HANG_S]
        assert client.put("/admin/faults", json={"hang": False}).status_code == 200
        assert blocked == [faults.HANG_S]


@pytest.mark.anyio
async def test_concurrency_bound_refuses_with_503() -> None:
    app = _app(max_concurrency=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={tenancy.HEADER: TENANT_A}
    ) as client:
        gate.clear()
        first = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.05)
        second = await client.get("/items/1")
        gate.set()
        assert ((await first).status_code, second.status_code) == (200, 503)
        assert "concurrency bound" in second.json()["detail"]


def test_readyz_names_what_is_not_ready(database: str) -> None:
    with _client(_app(database, dependencies={"product": "127.0.0.1:1"})) as client:
        reply = client.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["checks"] == {"database": "ok", "product": "not serving"}


def test_readyz_fails_without_database() -> None:
    with _client(_app(dependencies={"product": "127.0.0.1:1"})) as client:
        checks = client.get("/readyz").json()["checks"]
    assert checks["database"].startswith("failed")


def test_json_log_line_carries_trace_ids() -> None:
    formatter = JsonFormatter("search", "v2")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.order_id = "o-1"
    line = json.loads(formatter.format(record))
    assert (line["msg"], line["service"], line["order_id"], line["trace_id"]) == ("hello you", "search", "o-1", None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_metrics_port_serves_the_apps_registry_outside_the_service_port() -> None:
    app = _app(metrics_port=0)
    with _client(app) as client:
        client.get("/items/7")
        scraped = httpx.get(f"http://127.0.0.1:{app.state.metrics_port}/metrics").text
    assert 'miniapp_http_requests_total{code="200",method="GET",route="/items/{item_id}",service="search"' in scraped
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{app.state.metrics_port}/metrics")


def test_no_metrics_port_unless_set() -> None:
    app = _app()
    with _client(app):
        assert app.state.metrics_port is None


def test_latency_carries_the_trace_id_as_an_exemplar_for_openmetrics_scrapes() -> None:
    app = _app(metrics_port=0)
    with _client(app) as client:
        client.get("/items/7", headers={"traceparent": TRACEPARENT})
        openmetrics = httpx.get(
            f"http://127.0.0.1:{app.state.metrics_port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        ).text
    counted = next(line for line in openmetrics.splitlines() if line.startswith("miniapp_http_requests_total{"))
    assert f'# {{trace_id="{TRACE_ID}"}} 1.0' in counted


@pytest.mark.parametrize(
    ("tenant", "words"),
    [(None, "required"), ("wx-not-an-appid", "is not an appid"), (tenancy.EVERY, "is not an appid")],
)
def test_a_request_naming_no_tenant_is_400_naming_the_header(tenant: str | None, words: str) -> None:
    headers = {} if tenant is None else {tenancy.HEADER: tenant}
    with TestClient(_app(), headers=headers) as client:
        reply = client.get("/items/1")
        probe = client.get("/healthz")
    assert (reply.status_code, probe.status_code) == (400, 200)
    assert tenancy.HEADER in reply.json()["detail"]
    assert words in reply.json()["detail"]
