"""Pooled outbound HTTP to other services: one aiohttp session per process, bounded, carrying the trace
context, release tag and tenant of the request being served; an upstream's refusal becomes our DomainError.

aiohttp, not httpx: measured here with the same 4,000 pooled calls, httpx cost the calling process
2.5-3.2 ms of CPU per call and aiohttp 0.34-0.50 ms (httpcore also imports on every call to find the
async library). Bodies are encoded and decoded with orjson.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from miniapp_services.kit import tracing
from miniapp_services.kit.errors import Conflict, DomainError, NotFound, Unavailable

_ERRORS_BY_STATUS: dict[int, type[DomainError]] = {404: NotFound, 409: Conflict, 400: DomainError, 422: DomainError}
_JSON = "application/json"
# Kubernetes Service names resolve to stable cluster IPs; the lab's to fixed addresses.
_DNS_CACHE_S = 300


def make_http_client(max_connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """The process's one client session (create it inside the running loop: the app's lifespan)."""
    connector = aiohttp.TCPConnector(limit=max_connections, ttl_dns_cache=_DNS_CACHE_S)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        skip_auto_headers=("User-Agent",),
        raise_for_status=False,
    )


@dataclass(frozen=True)
class Reply:
    """An upstream's 2xx answer as it came: status and body bytes (empty for 204)."""

    status: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


class Upstream:
    """One upstream service's base URL on the shared session."""

    def __init__(self, client: aiohttp.ClientSession, name: str, base_url: str) -> None:
        self.client, self.name, self.base_url = client, name, base_url.rstrip("/")

    async def request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        """The decoded JSON body of a 2xx answer (None when it has no body)."""
        return (await self.send(method, path, json=json, params=params)).json()

    async def send(self, method: str, path: str, *, json: Any = None, params: Mapping[str, str] | None = None) -> Reply:
        """The 2xx answer undecoded (for passing it on as is); a refusal or failure raises."""
        headers = tracing.outgoing({})
        data = None
        if json is not None:
            data, headers["content-type"] = orjson.dumps(json), _JSON
        try:
            async with self.client.request(
                method, self.base_url + path, data=data, params=params, headers=headers
            ) as reply:
                body = await reply.read()
                status, content_type = reply.status, reply.content_type
        except (aiohttp.ClientError, TimeoutError) as err:
            raise Unavailable(f"{self.name} did not answer: {type(err).__name__}") from err
        if status >= 500:
            raise Unavailable(f"{self.name} answered {status}")
        if status >= 400:
            detail = orjson.loads(body).get("detail") if content_type == _JSON and body else None
            raise _refusal(_ERRORS_BY_STATUS.get(status, DomainError), self.name, status, detail)
        return Reply(status, body)


def _refusal(error: type[DomainError], name: str, status: int, detail: Any) -> DomainError:
    if isinstance(detail, dict):
        return error(f"{name}: {detail.get('msg', detail)}", field=detail.get("field"))
    return error(f"{name} refused the request ({status}): {detail}")
