"""The service registry (design section 2.3) with a real etcd 3.4 (the bundle's, on loopback): instances
register under a lease, the gateway probes them and routes by weighted random to the healthy ones, and a
killed instance leaves rotation within one probe interval plus the health TTL (measured)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx
import pytest
from conftest import TENANT_A, Running, start_service
from fastapi.testclient import TestClient

from miniapp_services.clients.signed import login
from miniapp_services.gateway import domain, registry
from miniapp_services.gateway.registry import HEALTH_TTL_S, P0_INTERVAL_S
from miniapp_services.kit import registration
from miniapp_services.kit.etcd import Etcd
from miniapp_services.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[4]
CLOSED = "http://127.0.0.1:1"
UP, DOWN = domain.Health("up", 3, 1).encode(), domain.Health("down", domain.FAILED_RT_MS, 1).encode()


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
            "gateway", upstreams=urls, registry_endpoint=etcd,
            registry_p0=["product"],
        ) as gateway:  # fmt: skip
            instances: domain.Instances = gateway.app.state.instances
            deadline = time.monotonic() + 15
            while len(instances.healthy("product")) < 2:
                assert time.monotonic() < deadline, f"instances never healthy: {instances}"
                time.sleep(0.1)
            signer = login(gateway, TENANT_A, "code-registry-1")
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
        instances.apply("PUT", f"/health/product/{addr}", UP)
    picks = collections.Counter(instances.pick("product", i / 1000) for i in range(1000))
    assert picks == {"a:1": 750, "b:1": 250}
    instances.apply("PUT", "/health/product/a:1", DOWN)
    assert {instances.pick("product", i / 10) for i in range(10)} == {"b:1"}
    instances.apply("DELETE", "/services/product/b:1", "")
    assert instances.pick("product", 0.5) is None


def test_health_is_written_as_the_design_writes_it_and_anything_else_reads_as_down() -> None:
    found = domain.Health("up", 12, 1_733_450_000)
    assert json.loads(found.encode()) == {"status": "up", "rt": 12, "ts": 1_733_450_000}
    assert domain.Health.decode(found.encode()) == found
    for value in ("up", "", "{}", '{"status": "up"}', "[1]"):
        assert domain.Health.decode(value) == domain.Health("down", domain.FAILED_RT_MS, 0), value


@dataclass
class MemoryEtcd:
    """The part of etcd the prober uses, in memory."""

    puts: dict[str, str] = field(default_factory=dict)

    async def grant(self, ttl_s: int) -> str:
        return "1"

    async def keepalive(self, lease: str) -> int:
        return HEALTH_TTL_S

    async def put(self, key: str, value: str, lease: str | None = None) -> None:
        self.puts[key] = value


def test_hung_instances_delay_no_other_and_are_recorded_down_with_rt_999(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five instances that never answer: probed one after another they would hold the healthy one's next probe
    for 5 x 300 ms; probed concurrently it keeps its 500 ms interval (3 probes in 1.2 s; 1 if held up)."""
    instances, etcd = domain.Instances(), MemoryEtcd()
    hung = [f"hung:{i}" for i in range(5)]
    for addr in ("ok:1", *hung):
        instances.apply("PUT", f"/services/product/{addr}", '{"weight": 100}')
    probes: list[str] = []

    async def probe_one(_client: httpx.AsyncClient, addr: str) -> domain.Health:
        probes.append(addr)
        if addr != "ok:1":
            await asyncio.Event().wait()  # never answers: only the probe's own timeout ends it
        return domain.Health("up", 1, int(time.time()))

    monkeypatch.setattr(registry, "_probe_one", probe_one)

    async def run() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(registry.P0_INTERVAL_S * 2.4):
                await registry.probe(cast(Etcd, etcd), instances, ("product",))

    asyncio.run(run())
    assert probes.count("ok:1") >= 2, f"the hung instances' probes held up the healthy one's: {probes}"
    for addr in hung:
        found = domain.Health.decode(etcd.puts[f"/health/product/{addr}"])
        assert (found.status, found.rt) == ("down", domain.FAILED_RT_MS)
    assert instances.healthy("product") == {"ok:1": 100}


def test_an_instance_frozen_past_its_lease_registers_again(etcd: str, database: str) -> None:
    product = start_service("product", database, registry_endpoint=etcd, registry_lease_ttl_s=2)
    key = f"/services/product/{product.url.removeprefix('http://')}"

    def registered() -> bool:
        async def read() -> bool:
            async with httpx.AsyncClient(timeout=3) as client:
                return key in (await Etcd(client, etcd).get_prefix(key))[0]

        return asyncio.run(read())

    try:
        assert registered()
        product.process.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 15
        while registered():
            assert time.monotonic() < deadline, "the frozen instance's key outlived its lease"
            time.sleep(0.2)
        product.process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 15
        while not registered():
            assert time.monotonic() < deadline, "the instance never registered again"
            time.sleep(0.2)
    finally:
        product.process.send_signal(signal.SIGCONT)
        product.stop()


def test_a_namespace_admits_its_cap_of_instances_and_refuses_one_more_naming_them(etcd: str) -> None:
    def settings(addr: str) -> Settings:
        return Settings(
            service="product", database_url="postgresql+asyncpg://u:p@127.0.0.1:1/db", registry_endpoint=etcd,
            registry_namespace="capped", registry_instance_cap=2, registry_advertise=addr, registry_lease_ttl_s=30,
        )  # fmt: skip

    async def run() -> None:
        first, second = (
            registration.registered(settings("10.0.0.1:8080")),
            registration.registered(settings("10.0.0.2:8080")),
        )
        async with first, second:
            with pytest.raises(registration.RegistryFull) as refused:
                async with registration.registered(settings("10.0.0.3:8080")):
                    pytest.fail("a third instance started in a namespace capped at two")
            message = str(refused.value)
            for named in ("'capped'", "cap of 2", "MINIAPP_REGISTRY_INSTANCE_CAP", "10.0.0.1:8080", "10.0.0.2:8080"):
                assert named in message
            async with httpx.AsyncClient(timeout=3) as client:
                keys = (await Etcd(client, etcd).get_prefix("/services/product/10.0.0."))[0]
            assert sorted(keys) == ["/services/product/10.0.0.1:8080", "/services/product/10.0.0.2:8080"]
        # Both stopped cleanly: their slots are free again at once, not after their leases' TTL.
        async with (
            registration.registered(settings("10.0.0.3:8080")),
            registration.registered(settings("10.0.0.4:8080")),
        ):
            pass

    asyncio.run(run())


def test_instances_starting_at_once_never_exceed_the_cap(etcd: str) -> None:
    def settings(n: int) -> Settings:
        return Settings(
            service="cart", database_url="postgresql+asyncpg://u:p@127.0.0.1:1/db", registry_endpoint=etcd,
            registry_namespace="race", registry_instance_cap=3, registry_advertise=f"10.1.0.{n}:8080",
        )  # fmt: skip

    async def one(n: int, done: asyncio.Event) -> bool:
        try:
            async with registration.registered(settings(n)):
                await done.wait()
                return True
        except registration.RegistryFull:
            return False

    async def run() -> list[bool]:
        done = asyncio.Event()
        tasks = [asyncio.create_task(one(n, done)) for n in range(8)]
        await asyncio.sleep(2)
        async with httpx.AsyncClient(timeout=3) as client:
            held = (await Etcd(client, etcd).get_prefix(registration.slots_prefix("race")))[0]
        done.set()
        results = await asyncio.gather(*tasks)
        assert len(held) == 3, held
        return results

    assert sorted(asyncio.run(run())) == [False] * 5 + [True] * 3
