"""Key-value stores (Redis) a service's settings name: one pooled client each for the process's lifetime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from pydantic import SecretStr
from redis.asyncio import BlockingConnectionPool, Redis

# A store that does not answer within this is treated as down: the caller fails closed, never waits long.
_TIMEOUT_S = 1.0


@contextlib.asynccontextmanager
async def opened(urls: dict[str, SecretStr], max_connections: int) -> AsyncIterator[dict[str, Redis]]:
    """A client per store URL (redis://:password@host:port/db); closed when the block ends."""
    clients = {
        name: Redis(
            connection_pool=BlockingConnectionPool.from_url(
                url.get_secret_value(),
                max_connections=max_connections,
                timeout=_TIMEOUT_S,
                socket_timeout=_TIMEOUT_S,
                socket_connect_timeout=_TIMEOUT_S,
            )
        )
        for name, url in urls.items()
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()
