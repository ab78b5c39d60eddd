"""Design section 2.3, the instance side: while it serves, an instance keeps /services/{svc}/{addr} in etcd
under a lease (30 s by default) that it refreshes every third of its TTL; the key disappears when the lease
lapses (a dead or frozen instance) or is revoked (a clean stop). An instance that finds its lease lapsed (it was
frozen, or etcd was out of reach past the TTL) grants a new one and registers again.

A namespace admits at most its cap of instances (the design's 10 per tenant namespace): each instance holds one
of the namespace's numbered slots, /slots/{namespace}/{n}, claimed in the same etcd transaction as its key and
under the same lease, so two instances starting at once never both take the last slot, and a dead instance's
slot is free again when its lease lapses. An instance that finds none free does not start, and says who holds
them."""

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


class RegistryFull(RuntimeError):
    """Every slot of the namespace is held: the instance is refused."""


def service_key(service: str, addr: str) -> str:
    return f"/services/{service}/{addr}"


def slots_prefix(namespace: str) -> str:
    return f"/slots/{namespace}/"


async def claim(etcd: Etcd, namespace: str, cap: int, key: str, value: str, lease: str) -> None:
    """Write key with the first free slot of the namespace, both under lease; RegistryFull when none is free."""
    prefix = slots_prefix(namespace)
    for slot in range(cap):
        if await etcd.put_if_absent(f"{prefix}{slot}", {f"{prefix}{slot}": key, key: value}, lease):
            return
    holders = sorted((await etcd.get_prefix(prefix))[0].values())
    raise RegistryFull(
        f"registry: namespace {namespace!r} already holds its cap of {cap} instances ({', '.join(holders)}); "
        "stop one of them, or raise MINIAPP_REGISTRY_INSTANCE_CAP"
    )


@contextlib.asynccontextmanager
async def registered(settings: Settings) -> AsyncIterator[None]:
    """Register this instance for the app's lifetime when a registry is configured."""
    if settings.registry_endpoint is None:
        yield
        return
    addr = settings.registry_advertise or f"{settings.http_host}:{settings.http_port}"
    key = service_key(settings.service, addr)
    value = json.dumps({"version": settings.version, "weight": settings.registry_weight})
    namespace, cap = settings.registry_namespace, settings.registry_instance_cap
    async with httpx.AsyncClient(timeout=3) as client:
        etcd = Etcd(client, str(settings.registry_endpoint))
        lease = Lease(etcd, settings.registry_lease_ttl_s)
        try:
            await claim(etcd, namespace, cap, key, value, await lease.grant())
            async with running(_keep(lease, namespace, cap, key, value), "registry-keepalive"):
                yield
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await etcd.revoke(lease.id)


async def _keep(lease: Lease, namespace: str, cap: int, key: str, value: str) -> None:
    """Refresh the lease every third of its TTL; a lapsed one (its key and slot gone) is replaced, and the
    instance claims a slot again, on every refresh until one is free."""
    placed = True
    while True:
        await asyncio.sleep(lease.ttl_s / 3)
        try:
            lapsed = await lease.renew()
            if lapsed or not placed:
                placed = False
                await claim(lease.etcd, namespace, cap, key, value, lease.id)
                placed = True
                _log.warning("registry lease had lapsed; registered %s again", key)
        except RegistryFull as full:
            _log.error("%s; retrying in %.1f s", full, lease.ttl_s / 3)
        except httpx.HTTPError:
            _log.warning("registry keepalive failed; retrying in %.1f s", lease.ttl_s / 3)
