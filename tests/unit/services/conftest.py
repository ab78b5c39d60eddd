"""Service test harness: a real PostgreSQL (tools/pgtmp.py) and services run in-process or as processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient

from miniapp_services.kit import tenancy
from miniapp_services.kit.app import create_app
from miniapp_services.kit.db import dsn, migrate
from miniapp_services.kit.settings import get_settings
from miniapp_services.registry import spec_for
from tools import etcdtmp, pgtmp, redistmp, tenantstmp

# Two merchants' mini-programs the gateway under test serves, each with keys of its own.
TENANT_A, TENANT_B = "wx00000000000000a1", "wx00000000000000b2"
# What the gateway tells a service behind it when it serves TENANT_A: how the tests call those services directly.
AS_A = {tenancy.HEADER: TENANT_A}
GRPC_AS_A = tuple(AS_A.items())
SEEDED_SKU, SEEDED_STOCK = "GW-TEA", 5  # each tenant's product the running upstreams start with, and its stock


@pytest.fixture(scope="session")
def tenants_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tenants") / "tenants.json"
    path.write_text(tenantstmp.keys_text(TENANT_A, TENANT_B))
    return path


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """The URL of a database on a fresh PostgreSQL on 127.0.0.1, for this test session."""
    with pgtmp.postgres() as url:
        yield url


@pytest.fixture
def empty_tables(database: str) -> Callable[[str], Callable[[], None]]:
    """For a service, a function that empties its tables (its schema and migrations stay)."""

    def emptier(service: str) -> Callable[[], None]:
        names = ", ".join(
            f'"{t.schema}"."{t.name}"' if t.schema else f'"{t.name}"' for t in spec_for(service).metadata.sorted_tables
        )

        async def empty() -> None:
            connection = await asyncpg.connect(dsn(database))
            try:
                await connection.execute(f"TRUNCATE {names} CASCADE")
            finally:
                await connection.close()

        return lambda: asyncio.run(empty())

    return emptier


@dataclass
class Running:
    """A service running as the image runs it: `python -m miniapp_services serve` with MINIAPP_* settings."""

    process: subprocess.Popen[str]
    http_port: int
    grpc_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def stop(self) -> str:
        """SIGTERM, as Kubernetes stops a pod; returns what the service logged."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=20)
        return out


def service_env(**values: object) -> dict[str, str]:
    """This environment without any MINIAPP_* variable, plus the given settings as MINIAPP_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIAPP_")}
    return env | {f"MINIAPP_{k.upper()}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def start_service(service: str, database: str, ports: tuple[int, int] | None = None, **settings: object) -> Running:
    """Migrate and start one service on free loopback ports (or these HTTP and gRPC ports, when a peer must
    know them first); wait until /healthz answers."""
    http, grpc_port = ports or (pgtmp.free_port(), pgtmp.free_port())
    env = service_env(
        service=service,
        database_url=database,
        http_host="127.0.0.1",
        http_port=str(http),
        grpc_port=str(grpc_port),
        **settings,
    )
    entry = [sys.executable, "-m", "miniapp_services"]
    subprocess.run([*entry, "migrate"], env=env, check=True)
    running = Running(subprocess.Popen([*entry, "serve"], env=env, stdout=subprocess.PIPE, text=True), http, grpc_port)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{running.url}/healthz", timeout=1)
            return running
        except httpx.TransportError:
            if running.process.poll() is not None or time.monotonic() > deadline:
                running.process.kill()
                pytest.fail(f"{service} did not start listening: {running.process.communicate()[0][-2000:]}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def etcd() -> Iterator[str]:
    """A one-member etcd on loopback (the bundle's), stopped with the module."""
    try:
        with etcdtmp.etcd() as url:
            yield url
    except FileNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def nonce_store() -> Iterator[str]:
    """The redis:// URL of a fresh Redis on 127.0.0.1 (the gateway's replay guard), for this test session."""
    with redistmp.redis() as url:
        yield url


@pytest.fixture(scope="session")
def make_client(database: str, nonce_store: str, tenants_file: Path) -> Callable[..., TestClient]:
    """Build a TestClient for one service, its schema migrated; enter it to run the lifespan. The gateway
    gets the session's nonce store and tenants (TENANT_A, TENANT_B) unless told otherwise."""

    def make(service: str, **overrides: object) -> TestClient:
        spec = spec_for(service)
        migrate(str(overrides.get("database_url", database)), spec.metadata, spec.migrations)
        base = {"service": service, "database_url": database, "grpc_port": 0, "http_host": "127.0.0.1"}
        if service == "gateway":
            base["stores"] = {"nonces": nonce_store}
            base["tenants_file"] = tenants_file
        settings = get_settings(**(base | overrides))
        # A service behind the gateway serves the tenant its caller names: TENANT_A's, as the gateway would say.
        headers = {} if service == "gateway" else AS_A
        return TestClient(create_app(spec, settings), headers=headers)

    return make


# The real upstream processes the gateway tests put behind the gateway, started once per session.
@pytest.fixture(scope="session")
def upstreams(database: str) -> Iterator[dict[str, Running]]:
    started: dict[str, Running] = {}
    try:
        for name in ("user", "product", "inventory", "checkin", "notify"):
            started[name] = start_service(name, database)
        pay_ports = (pgtmp.free_port(), pgtmp.free_port())
        deps = {
            "product": started["product"].target,
            "inventory": started["inventory"].target,
            "pay": f"127.0.0.1:{pay_ports[1]}",
        }
        started["order"] = start_service("order", database, dependencies=deps)
        started["pay"] = start_service("pay", database, pay_ports, dependencies={"order": started["order"].target})
        for tenant in (TENANT_A, TENANT_B):  # each merchant its own product of that SKU, and its own stock
            as_tenant = {tenancy.HEADER: tenant}
            product = {"title": "Tea", "price_cents": 300, "category": "gw"}
            url = started["product"].url
            httpx.put(f"{url}/products/{SEEDED_SKU}", json=product, headers=as_tenant).raise_for_status()
            stock = {"available": SEEDED_STOCK}
            url = started["inventory"].url
            httpx.put(f"{url}/stock/{SEEDED_SKU}", json=stock, headers=as_tenant).raise_for_status()
        yield started
    finally:
        for running in started.values():
            running.stop()


@pytest.fixture
def refused(request: pytest.FixtureRequest) -> Callable[..., None]:
    """check(method, path, body, status, field): the test module's `client` refuses that request with that
    status, naming the field (bad input gets an error that names what to fix)."""
    client: TestClient = request.getfixturevalue("client")

    def check(method: str, path: str, body: dict[str, Any] | None, status: int, field: str) -> None:
        reply = client.request(method, path, json=body)
        assert reply.status_code == status, reply.text
        assert field in reply.text

    return check
