"""A real PostgreSQL for the service tests: a throwaway cluster on loopback, started once per session.

Debian's postgresql-15 server binaries are used (make bootstrap installs them); as root the cluster
runs as the `postgres` user, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from miniapp_services.kit.app import create_app
from miniapp_services.kit.db import migrate
from miniapp_services.kit.settings import get_settings
from miniapp_services.registry import spec_for


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql: run `make bootstrap`")
    return found[-1].parent


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The base URL (no database name) of a fresh PostgreSQL on 127.0.0.1."""
    # Not under pytest's tmp dir: that is private to root, and the server may run as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="miniapp-pg-"))
    bindir, data, port = _pg_bin(), root / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        shutil.chown(root, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    run(f"{bindir}/initdb", "-D", str(data), "-U", "miniapp", "--auth=trust", "-E", "UTF8")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c max_connections=200"
    run(f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-w", "-l", str(data / "server.log"), "start")
    try:
        yield f"postgresql+asyncpg://miniapp@127.0.0.1:{port}"
    finally:
        run(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root)


@pytest.fixture(scope="session")
def database(postgres: str) -> str:
    """A database of its own for this test session, created through psql on the same cluster."""
    port = postgres.rsplit(":", 1)[1]
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "miniapp", "-d", "postgres", "-qc", "CREATE DATABASE services"],
        check=True,
    )
    return f"{postgres}/services"


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


def start_service(service: str, database: str, **settings: object) -> Running:
    """Migrate and start one service on free loopback ports; wait until /healthz answers."""
    http, grpc_port = _free_port(), _free_port()
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


@pytest.fixture(scope="session")
def make_client(database: str) -> Callable[..., TestClient]:
    """Build a TestClient for one service, its schema migrated; enter it to run the lifespan."""

    def make(service: str, **overrides: object) -> TestClient:
        spec = spec_for(service)
        migrate(database, spec.metadata, spec.migrations)
        settings = get_settings(service=service, database_url=database, grpc_port=0, http_host="127.0.0.1", **overrides)
        return TestClient(create_app(spec, settings))

    return make
