"""Design section 2.3, the gateway's side: follow /services/ and /health/ in etcd, probe every registered
instance (P0 services every 500 ms, the others every 2 s, 300 ms timeout) and write what it finds under
/health/{svc}/{addr} with a 10 s lease, so that a dead instance leaves rotation within one probe interval,
and a dead gateway's findings within the TTL. Inside the mesh Istio does discovery; this is the gateway's
own, used when MINIAPP_REGISTRY_ENDPOINT is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from miniapp_services.gateway.domain import Instances
from miniapp_services.kit.etcd import Etcd

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
    """Probe each registered instance at its tier's interval and record what changed under a lease."""
    lease = await etcd.grant(HEALTH_TTL_S)
    due: dict[tuple[str, str], float] = {}
    refreshed = time.monotonic()
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
        while True:
            now = time.monotonic()
            for service, addrs in list(instances.registered.items()):
                interval = P0_INTERVAL_S if service in p0 else P1_INTERVAL_S
                for addr in list(addrs):
                    if due.get((service, addr), 0) <= now:
                        due[(service, addr)] = now + interval
                        state = await _probe_one(client, addr)
                        if instances.health.get((service, addr)) != state:
                            await etcd.put(f"/health/{service}/{addr}", state, lease)
                            instances.apply("PUT", f"/health/{service}/{addr}", state)
            if now - refreshed > HEALTH_TTL_S / 3:
                refreshed = now
                if await etcd.keepalive(lease) == 0:
                    lease = await etcd.grant(HEALTH_TTL_S)
                    instances.health.clear()
            await asyncio.sleep(0.05)


async def _probe_one(client: httpx.AsyncClient, addr: str) -> str:
    with contextlib.suppress(httpx.HTTPError):
        if (await client.get(f"http://{addr}/healthz")).status_code == 200:
            return "up"
    return "down"
