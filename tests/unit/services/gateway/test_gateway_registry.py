"""The service registry (design section 2.3) with a real etcd 3.4 (the bundle's, on loopback): instances
register under a lease, the gateway probes them and routes by weighted random to the healthy ones, and a
killed instance leaves rotation within one probe interval plus the health TTL (measured)."""

from __future__ import annotations

import collections
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Running, start_service
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import login
from miniapp_services.gateway import domain
from miniapp_services.gateway.registry import HEALTH_TTL_S, P0_INTERVAL_S
from tools import etcdtmp

ROOT = Path(__file__).resolve().parents[4]
CLOSED = "http://127.0.0.1:1"


@pytest.fixture(scope="module")
def etcd() -> Iterator[str]:
    """A one-member etcd on loopback (the bundle's), stopped with the module."""
    try:
        with etcdtmp.etcd() as url:
            yield url
    except FileNotFoundError as err:
        pytest.fail(str(err))


def _served(instance: Running) -> float:
    text = httpx.get(f"{instance.url}/metrics").text
    lines = [
        line for line in text.splitlines() if line.startswith("miniapp_http_requests_total{") and "/products/" in line
    ]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def test_killed_instance_leaves_rotation_within_the_bound(
    etcd: str, database: str, make_client: Callable[..., TestClient], upstreams: dict[str, Running]
) -> None:
    products = [start_service("product", database, registry_endpoint=etcd) for _ in range(2)]
    urls = {name: r.url for name, r in upstreams.items()} | dict.fromkeys(
        ("search", "cart", "coupon", "seckill"), CLOSED
    )
    urls["product"] = CLOSED  # only the registry can find product
    try:
        with make_client(
            "gateway", upstreams=urls, session_secret=secrets.token_hex(32), registry_endpoint=etcd,
            registry_p0=["product"],
        ) as gateway:  # fmt: skip
            instances: domain.Instances = gateway.app.state.instances
            deadline = time.monotonic() + 15
            while len(instances.healthy("product")) < 2:
                assert time.monotonic() < deadline, f"instances never healthy: {instances}"
                time.sleep(0.1)
            signer = login(gateway, "code-registry-1")
            before = [_served(p) for p in products]
            codes = collections.Counter(gateway.get("/api/products/GW-TEA", auth=signer).status_code for _ in range(40))
            assert codes == {200: 40}
            shares = [_served(p) - b for p, b in zip(products, before, strict=True)]
            assert min(shares) >= 5, shares  # both take traffic (equal weights)

            victim = products.pop()
            killed_at = time.monotonic()
            victim.process.send_signal(signal.SIGKILL)
            victim_addr = victim.url.removeprefix("http://")
            while victim_addr in instances.healthy("product"):
                assert time.monotonic() - killed_at < P0_INTERVAL_S + HEALTH_TTL_S, "still in rotation past the bound"
                time.sleep(0.02)
            left_after = time.monotonic() - killed_at
            codes = collections.Counter(gateway.get("/api/products/GW-TEA", auth=signer).status_code for _ in range(20))
            assert codes == {200: 20}
            print(f"killed instance left rotation after {left_after:.3f} s (bound {P0_INTERVAL_S + HEALTH_TTL_S} s)")
    finally:
        for p in products:
            p.stop()


def test_weighted_pick_follows_the_weights() -> None:
    instances = domain.Instances()
    for addr, weight in (("a:1", 300), ("b:1", 100)):
        instances.apply("PUT", f"/services/product/{addr}", f'{{"weight": {weight}}}')
        instances.apply("PUT", f"/health/product/{addr}", "up")
    picks = collections.Counter(instances.pick("product", i / 1000) for i in range(1000))
    assert picks == {"a:1": 750, "b:1": 250}
    instances.apply("PUT", "/health/product/a:1", "down")
    assert {instances.pick("product", i / 10) for i in range(10)} == {"b:1"}
    instances.apply("DELETE", "/services/product/b:1", "")
    assert instances.pick("product", 0.5) is None
