"""The services image as Kubernetes would run it: migrate, then serve under the 96 MiB budget, as non-root,
with nothing reachable but loopback. Run by `make image-test` after `make services-image`.
"""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lab.podman import inspect, podman
from miniapp_services.kit import tenancy
from tools import pgtmp

ROOT = Path(__file__).resolve().parents[2]
IMAGE = subprocess.run(
    [ROOT / "services/image/build.sh", "--tag-only"], check=True, capture_output=True, text=True
).stdout.strip()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with pgtmp.postgres() as url:
        yield url


@pytest.fixture(scope="module")
def served(database: str) -> Iterator[tuple[str, int]]:
    port = pgtmp.free_port()
    env = [
        "-e",
        "MINIAPP_SERVICE=inventory",
        "-e",
        f"MINIAPP_DATABASE_URL={database}",
        "-e",
        "MINIAPP_HTTP_HOST=127.0.0.1",
    ]
    env += ["-e", f"MINIAPP_HTTP_PORT={port}", "-e", f"MINIAPP_GRPC_PORT={pgtmp.free_port()}"]
    podman("run", "--rm", "--network", "host", *env, IMAGE, "migrate")
    name = f"miniapp-image-test-{port}"
    podman("run", "-d", "--name", name, "--network", "host", "--memory", "96m", *env, IMAGE)
    try:
        yield name, port
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def _ready(port: int) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the container did not listen within 30 s"
            time.sleep(0.3)


def test_serves_ready_under_the_budget_as_non_root(served: tuple[str, int]) -> None:
    name, port = served
    reply = _ready(port)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-service-version"] == "v1"
    as_tenant = {tenancy.HEADER: "wx00000000000000a1"}  # as the gateway names the merchant it serves
    stock = httpx.put(f"http://127.0.0.1:{port}/stock/IMG-1", json={"available": 3}, headers=as_tenant)
    assert stock.json()["available"] == 3
    assert podman("exec", name, "id", "-u") == "10001"
    assert inspect(name)[0]["HostConfig"]["Memory"] == 96 * 1024 * 1024


def test_nothing_of_the_build_is_left_in_the_image() -> None:
    probe = "ls /build 2>&1; python3 -c 'import pip' 2>&1; true"
    listing = podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c", probe)
    assert "No such file or directory" in listing
    assert "No module named 'pip'" in listing


def test_stops_on_sigterm_after_draining(served: tuple[str, int]) -> None:
    name, port = served
    _ready(port)
    podman("stop", "-t", "15", name)
    said = [json.loads(line)["msg"] for line in podman("logs", name).splitlines() if line.startswith("{")]
    assert "Application shutdown complete." in said, said
