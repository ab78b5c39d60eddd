"""Design section 2.3, the instance side: while it serves, an instance keeps /services/{svc}/{addr} in etcd
under a lease (30 s by default) that it refreshes every third of its TTL; the key disappears when the lease
lapses (a dead or frozen instance) or is revoked (a clean stop). An instance that finds its lease lapsed (it was
frozen, or etcd was out of reach past the TTL) grants a new one and registers again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import httpx

from miniapp_services.kit.etcd import Etcd, Lease
from miniapp_services.kit.settings import Settings
from miniapp_services.kit.tasks import running

_log = logging.getLogger(__name__)


def service_key(service: str, addr: str) -> str:
    return f"/services/{service}/{addr}"


@contextlib.asynccontextmanager
async def registered(settings: Settings) -> AsyncIterator[None]:
    """Register this instance for the app's lifetime when a registry is configured."""
    if settings.registry_endpoint is None:
        yield
        return
    addr = settings.registry_advertise or f"{settings.http_host}:{settings.http_port}"
    key = service_key(settings.service, addr)
    value = json.dumps({"version": settings.version, "weight": settings.registry_weight})
    async with httpx.AsyncClient(timeout=3) as client:
        etcd = Etcd(client, str(settings.registry_endpoint))
        lease = Lease(etcd, settings.registry_lease_ttl_s)
        await etcd.put(key, value, await lease.grant())
        try:
            async with running(_keep(lease, key, value), "registry-keepalive"):
                yield
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await etcd.revoke(lease.id)


async def _keep(lease: Lease, key: str, value: str) -> None:
    """Refresh the lease every third of its TTL; a lapsed one (its key gone) is replaced, key and all."""
    while True:
        await asyncio.sleep(lease.ttl_s / 3)
        try:
            if await lease.renew():
                await lease.etcd.put(key, value, lease.id)
                _log.warning("registry lease had lapsed; registered %s again", key)
        except httpx.HTTPError:
            _log.warning("registry keepalive failed; retrying in %.1f s", lease.ttl_s / 3)
