"""A small etcd v3 client over etcd's JSON gateway (HTTP), for the service registry: leases, puts, prefix
reads and prefix watches. etcd 3.4 serves the gateway on its client port."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _text(b64: str | None) -> str:
    return base64.b64decode(b64 or "").decode()


def prefix_end(prefix: str) -> str:
    """The first key after every key starting with prefix (etcd's range_end for a prefix)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class Event:
    kind: str  # PUT or DELETE
    key: str
    value: str


class Etcd:
    def __init__(self, client: httpx.AsyncClient, endpoint: str) -> None:
        self.client, self.endpoint = client, endpoint.rstrip("/")

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await self.client.post(f"{self.endpoint}/v3/{path}", json=body)
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found

    async def grant(self, ttl_s: int) -> str:
        return str((await self._call("lease/grant", {"TTL": ttl_s}))["ID"])

    async def keepalive(self, lease: str) -> int:
        """Refresh the lease once; its remaining TTL (0: it expired, its keys are gone)."""
        async with self.client.stream("POST", f"{self.endpoint}/v3/lease/keepalive", json={"ID": lease}) as reply:
            reply.raise_for_status()
            async for line in reply.aiter_lines():
                return int(json.loads(line).get("result", {}).get("TTL", 0))
        return 0

    async def revoke(self, lease: str) -> None:
        await self._call("lease/revoke", {"ID": lease})

    async def put(self, key: str, value: str, lease: str | None = None) -> None:
        await self._call("kv/put", {"key": _b64(key), "value": _b64(value), **({"lease": lease} if lease else {})})

    async def put_if_absent(self, guard: str, puts: dict[str, str], lease: str) -> bool:
        """In one transaction: when guard does not exist, write guard and every other key of puts under the lease.
        True when written; False when guard already existed (nothing written)."""
        absent = {"key": _b64(guard), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
        writes = [{"request_put": {"key": _b64(k), "value": _b64(v), "lease": lease}} for k, v in puts.items()]
        found = await self._call("kv/txn", {"compare": [absent], "success": writes})
        return bool(found.get("succeeded"))

    async def delete(self, key: str) -> None:
        await self._call("kv/deleterange", {"key": _b64(key)})

    async def get_prefix(self, prefix: str) -> tuple[dict[str, str], int]:
        """Every key under prefix and the revision it was read at."""
        found = await self._call("kv/range", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))})
        items = {_text(kv["key"]): _text(kv.get("value")) for kv in found.get("kvs", [])}
        return items, int(found["header"]["revision"])

    async def watch_prefix(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        """Changes under prefix after start_revision, for as long as the caller iterates."""
        create = {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix)), "start_revision": start_revision}
        timeout = httpx.Timeout(10, read=None)
        async with self.client.stream(
            "POST", f"{self.endpoint}/v3/watch", json={"create_request": create}, timeout=timeout
        ) as reply:
            reply.raise_for_status()
            async for line in reply.aiter_lines():
                for event in json.loads(line).get("result", {}).get("events", []):
                    kv = event["kv"]
                    yield Event(event.get("type", "PUT"), _text(kv["key"]), _text(kv.get("value")))


@dataclass
class Lease:
    """A lease kept for as long as its holder runs: `renew` refreshes it, and when it had lapsed (its keys are
    gone) grants a new one and says so, so the holder writes its keys again under `id`."""

    etcd: Etcd
    ttl_s: int
    id: str = ""

    async def grant(self) -> str:
        self.id = await self.etcd.grant(self.ttl_s)
        return self.id

    async def renew(self) -> bool:
        """Refresh once; True when it had lapsed and a new one was granted."""
        if await self.etcd.keepalive(self.id) != 0:
            return False
        await self.grant()
        return True
