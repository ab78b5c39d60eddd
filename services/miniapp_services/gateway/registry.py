"""Design section 2.3, the gateway's side: follow /services/ and /health/ in etcd, probe every registered
instance concurrently (P0 services every 500 ms, the others every 2 s, each probe within 300 ms) and write what
it finds under /health/{svc}/{addr} as the design does, `{"status", "rt", "ts"}` (rt 999 on failure), with a
10 s lease, so that a dead instance leaves rotation within one probe interval, and a dead gateway's findings
within the TTL. Inside the mesh Istio does discovery; this is the gateway's
own, used when MINIAPP_REGISTRY_ENDPOINT is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from miniapp_services.gateway.domain import FAILED_RT_MS, Health, Instances
from miniapp_services.kit.etcd import Etcd, Lease

P0_INTERVAL_S, P1_INTERVAL_S, PROBE_TIMEOUT_S, HEALTH_TTL_S = 0.5, 2.0, 0.3, 10
_log = logging.getLogger(__name__)


async def follow(etcd: Etcd, instances: Instances) -> None:
    """Load both prefixes, then apply every change, for as long as it runs (reconnecting on failure)."""

    async def one(prefix: str) -> None:
        while True:
            try:
                items, revision = await etcd.get_prefix(prefix)
                for key, value in items.items():
                    instances.apply("PUT", key, value)
                async for event in etcd.watch_prefix(prefix, revision + 1):
                    instances.apply(event.kind, event.key, event.value)
            except httpx.HTTPError as err:
                _log.warning("registry watch on %s failed (%s); reconnecting", prefix, type(err).__name__)
                await asyncio.sleep(1)

    await asyncio.gather(one("/services/"), one("/health/"))


async def probe(etcd: Etcd, instances: Instances, p0: tuple[str, ...]) -> None:
    """A prober per registered instance, each on its tier's interval, so that a hung instance delays no other;
    their findings go under one lease, refreshed every third of its TTL and granted anew (every finding then
    written again) when it lapsed."""
    lease = Lease(etcd, HEALTH_TTL_S)
    await lease.grant()
    probers: dict[tuple[str, str], asyncio.Task[None]] = {}
    refreshed = time.monotonic()
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
        try:
            while True:
                wanted = {(service, addr) for service, addrs in instances.registered.items() for addr in addrs}
                for key in wanted - probers.keys():
                    interval = P0_INTERVAL_S if key[0] in p0 else P1_INTERVAL_S
                    probers[key] = asyncio.create_task(_prober(etcd, instances, client, key, interval, lease))
                for key in probers.keys() - wanted:
                    probers.pop(key).cancel()
                if time.monotonic() - refreshed > HEALTH_TTL_S / 3:
                    refreshed = time.monotonic()
                    await _refresh(instances, lease)
                await asyncio.sleep(0.05)
        finally:
            for task in probers.values():
                task.cancel()


async def _refresh(instances: Instances, lease: Lease) -> None:
    try:
        if await lease.renew():
            instances.health.clear()
    except httpx.HTTPError as err:
        _log.warning("registry health lease refresh failed (%s); retrying", type(err).__name__)


async def _prober(
    etcd: Etcd, instances: Instances, client: httpx.AsyncClient, key: tuple[str, str], interval: float, lease: Lease
) -> None:
    """Probe one instance every interval; write its finding when its status changed, or a third of the health
    TTL after the last write (its rt and ts then stay that fresh)."""
    service, addr = key
    written = 0.0
    while True:
        started = time.monotonic()
        found = await _timed_probe(client, addr)
        seen = instances.health.get(key)
        if seen is None or seen.status != found.status or started - written > HEALTH_TTL_S / 3:
            try:
                await etcd.put(f"/health/{service}/{addr}", found.encode(), lease.id)
                written = started
            except httpx.HTTPError as err:
                _log.warning("registry could not record %s/%s (%s)", service, addr, type(err).__name__)
            instances.apply("PUT", f"/health/{service}/{addr}", found.encode())
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def _timed_probe(client: httpx.AsyncClient, addr: str) -> Health:
    """The probe within PROBE_TIMEOUT_S all told (httpx's timeout bounds each phase, not the whole)."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            return await _probe_one(client, addr)
    except TimeoutError:
        return Health("down", FAILED_RT_MS, int(time.time()))


async def _probe_one(client: httpx.AsyncClient, addr: str) -> Health:
    started = time.perf_counter()
    with contextlib.suppress(httpx.HTTPError):
        if (await client.get(f"http://{addr}/healthz")).status_code == 200:
            return Health("up", round((time.perf_counter() - started) * 1000), int(time.time()))
    return Health("down", FAILED_RT_MS, int(time.time()))
