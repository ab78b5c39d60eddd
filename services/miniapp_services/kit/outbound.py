"""Pooled outbound HTTP to other services: one httpx client per process, bounded, carrying the trace
context and release tag of the request being served; an upstream's refusal becomes our DomainError.
"""

from __future__ import annotations

from typing import Any

import httpx

from miniapp_services.kit import tracing
from miniapp_services.kit.errors import Conflict, DomainError, NotFound, Unavailable

_ERRORS_BY_STATUS: dict[int, type[DomainError]] = {404: NotFound, 409: Conflict, 400: DomainError, 422: DomainError}


def make_http_client(max_connections: int, timeout_s: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(timeout_s))


class Upstream:
    """One upstream service's base URL on the shared client."""

    def __init__(self, client: httpx.AsyncClient, name: str, base_url: str) -> None:
        self.client, self.name, self.base_url = client, name, base_url.rstrip("/")

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(tracing.inject({}))
        if tag := tracing.current_release_tag.get():
            headers[tracing.RELEASE_TAG] = tag
        try:
            reply = await self.client.request(method, self.base_url + path, headers=headers, **kwargs)
        except httpx.HTTPError as err:
            raise Unavailable(f"{self.name} did not answer: {type(err).__name__}") from err
        if reply.status_code >= 500:
            raise Unavailable(f"{self.name} answered {reply.status_code}")
        if reply.status_code >= 400:
            detail = reply.json().get("detail") if reply.headers.get("content-type") == "application/json" else None
            error = _ERRORS_BY_STATUS.get(reply.status_code, DomainError)
            raise _refusal(error, self.name, reply.status_code, detail)
        # 204 No Content (a cart line set) has no body to decode.
        return reply.json() if reply.content else None


def _refusal(error: type[DomainError], name: str, status: int, detail: Any) -> DomainError:
    if isinstance(detail, dict):
        return error(f"{name}: {detail.get('msg', detail)}", field=detail.get("field"))
    return error(f"{name} refused the request ({status}): {detail}")
