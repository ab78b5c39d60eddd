"""Connections through a multi-host URL (kit/db.HostOrder): a host that does not take the connection costs one
try, and the host that took it is tried first from then on, so a failover is paid for once, not per connection."""

from __future__ import annotations

import asyncio
import socket

import pytest

from miniapp_services.kit.db import HostOrder, dsn
from miniapp_services.kit.errors import Unavailable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _two_hosts(database: str, first: str) -> str:
    """The test database's URL with `first` listed before its own host."""
    scheme, rest = database.split("://", 1)
    credentials, location = rest.split("@", 1)
    return f"{scheme}://{credentials}@{first},{location}"


def test_a_host_that_refuses_is_passed_and_the_one_that_took_it_comes_first(database: str) -> None:
    dead = f"127.0.0.1:{_closed_port()}"
    url = _two_hosts(database, dead)
    order = HostOrder(url)

    async def twice() -> None:
        for _ in range(2):
            conn = await order.connect(dsn(url))
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()

    asyncio.run(twice())
    assert f"{order.hosts[1][0]}:{order.hosts[1][1]}" == dead


def test_no_host_taking_it_says_which_were_tried() -> None:
    url = f"postgresql+asyncpg://u:p@127.0.0.1:{_closed_port()},127.0.0.1:{_closed_port()}/db"
    with pytest.raises(Unavailable, match=r"no database host took the connection \(127\.0\.0\.1:\d+: \w+; 127\."):
        asyncio.run(HostOrder(url).connect(dsn(url)))


def test_a_host_of_the_wrong_kind_is_passed_over(database: str) -> None:
    """The test database is a primary: asked for a standby, it is passed over like a host that is down."""
    url = database + ("&" if "?" in database else "?") + "target_session_attrs=standby"
    with pytest.raises(Unavailable, match=r"TargetServerAttributeNotMatched"):
        asyncio.run(HostOrder(url).connect(dsn(url)))


def test_a_host_given_up_on_is_tried_last_next_time() -> None:
    """A request that gives up while the first host keeps it waiting (a deadline shorter than the connect timeout)
    still teaches the order: the next connection tries the other host first."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts the TCP handshake and never answers: the host that keeps a client waiting
    silent = f"127.0.0.1:{listener.getsockname()[1]}"
    url = f"postgresql+asyncpg://u:p@{silent},127.0.0.1:{_closed_port()}/db"
    order = HostOrder(url)

    async def give_up() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await order.connect(dsn(url))

    asyncio.run(give_up())
    listener.close()
    assert f"{order.hosts[-1][0]}:{order.hosts[-1][1]}" == silent
