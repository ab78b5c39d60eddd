"""Design section 2.3, the instance side: while it serves, an instance keeps /services/{svc}/{addr} in etcd
under a 30 s lease that it refreshes; the key disappears when the lease lapses (a dead instance) or is
revoked (a clean stop)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import httpx

from miniapp_services.kit.etcd import Etcd
from miniapp_services.kit.settings import Settings
from miniapp_services.kit.tasks import running

LEASE_TTL_S, KEEPALIVE_S = 30, 10
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
    async with httpx.AsyncClient(timeout=3) as client:
        etcd = Etcd(client, str(settings.registry_endpoint))
        lease = await etcd.grant(LEASE_TTL_S)
        value = json.dumps({"version": settings.version, "weight": settings.registry_weight})
        await etcd.put(service_key(settings.service, addr), value, lease)
        try:
            async with running(_keep(etcd, lease), "registry-keepalive"):
                yield
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await etcd.revoke(lease)


async def _keep(etcd: Etcd, lease: str) -> None:
    while True:
        await asyncio.sleep(KEEPALIVE_S)
        try:
            await etcd.keepalive(lease)
        except httpx.HTTPError:
            _log.warning("registry keepalive failed; retrying in %s s", KEEPALIVE_S)
