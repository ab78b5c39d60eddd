"""PostgreSQL on the request path through one asyncpg pool per process; SQLAlchemy only describes each
service's tables, for its Alembic migrations.

Why not the ORM on the request path: measured here, a primary-key read through an ORM session in a
transaction with pre-ping cost the client 1.5 ms of CPU and four round trips (ping, BEGIN, SELECT,
COMMIT); the same read as an asyncpg prepared statement costs 0.18 ms and one round trip. asyncpg
prepares each query text once per connection and reuses the plan. A tenant's work (kit.tenancy) runs in
one transaction that its first round trip opens and scopes to the tenant (row-level security reads the
setting), so a tenant's read costs three round trips: scope, SELECT, COMMIT. A dead connection is not
pinged for: asyncpg reports it on use and the pool replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import asyncpg
import orjson
from alembic import command
from alembic.config import Config
from pydantic import PostgresDsn
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from miniapp_services.kit import tenancy
from miniapp_services.kit.errors import Unavailable
from miniapp_services.kit.settings import Settings

_MIGRATIONS_ENV = Path(__file__).with_name("migrations")
# A connection idle this long is closed (the pool keeps one); PostgreSQL's per-backend memory comes back.
_IDLE_LIFETIME_S = 300.0
# What the repositories get: a pool's proxy in the services, a bare connection in the pool's setup hooks.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def dsn(database_url: str) -> str:
    """The settings' SQLAlchemy-style URL (postgresql+asyncpg://) as libpq's, which asyncpg takes."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# How long one host may take to accept, authenticate and say whether it is the primary.
_CONNECT_TIMEOUT_S = 2.0


class HostOrder:
    """Connections to the URL's hosts, tried one at a time with a timeout each: a host that took a connection is
    tried first from then on, one that failed (down, a standby, or too slow for a request that gave up on it)
    last.

    asyncpg spends one timeout on the whole host list and tries the next host only on an OSError, so a primary
    whose address stopped answering made every new connection wait for it first; requests that gave up before
    the next host was tried never learned (the failover drill saw errors for 34 s after the switch). Here a dead
    host costs one attempt.
    """

    def __init__(self, database_url: str) -> None:
        self.hosts = [(str(h["host"]), int(h["port"] or 5432)) for h in PostgresDsn(database_url).hosts()]

    def _move(self, host: tuple[str, int], *, first: bool) -> None:
        self.hosts.remove(host)
        self.hosts.insert(0 if first else len(self.hosts), host)

    async def connect(self, dsn: str, **kwargs: Any) -> asyncpg.Connection:
        failures = []
        for host, port in list(self.hosts):
            try:
                conn: asyncpg.Connection = await asyncpg.connect(
                    dsn, host=host, port=port, timeout=_CONNECT_TIMEOUT_S, **kwargs
                )
            except asyncio.CancelledError:
                self._move((host, port), first=False)
                raise
            except (
                OSError,
                TimeoutError,
                asyncpg.TargetServerAttributeNotMatched,  # a standby, when the URL asks for read-write
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
            ) as err:
                self._move((host, port), first=False)
                failures.append(f"{host}:{port}: {type(err).__name__}")
                continue
            self._move((host, port), first=True)
            return conn
        raise Unavailable(f"no database host took the connection ({'; '.join(failures)}): retry")


def engine(database_url: str) -> AsyncEngine:
    """SQLAlchemy over asyncpg for migrations and the invariants checker, connecting as the pool does (HostOrder):
    SQLAlchemy's URL parser refuses libpq's multi-host form (h1:5432,h2:5432)."""
    hosts = HostOrder(database_url)

    async def connect() -> asyncpg.Connection:
        return await hosts.connect(dsn(database_url))

    return create_async_engine("postgresql+asyncpg://", async_creator=connect)


class Database:
    """The process's pool: connections for reads and single statements, transactions for the rest."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout_s: float) -> None:
        self.pool, self.acquire_timeout_s = pool, acquire_timeout_s

    @classmethod
    async def open(cls, settings: Settings) -> Database:
        url = settings.database_url.get_secret_value()
        pool = await asyncpg.create_pool(
            dsn(url),
            # The stubs' connect protocol spells out every keyword of asyncpg.connect; ours passes them through.
            connect=cast("Any", HostOrder(url).connect),
            min_size=0,  # connects on first use: a service starts (and says why it is not ready) without its database
            max_size=settings.db_pool_size + settings.db_max_overflow,
            max_inactive_connection_lifetime=_IDLE_LIFETIME_S,
            init=_codecs,
            reset=_no_session_state,
        )
        return cls(pool, settings.db_pool_timeout_s)

    @asynccontextmanager
    async def _pooled(self) -> AsyncIterator[Connection]:
        try:
            # asyncio.timeout, not acquire(timeout=): that wraps each acquire in a task (wait_for).
            async with asyncio.timeout(self.acquire_timeout_s):
                conn = await self.pool.acquire()
        except TimeoutError as err:
            raise Unavailable(f"no database connection free within {self.acquire_timeout_s} s: retry") from err
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection for the current tenant (kit.tenancy): its statements run in one transaction
        scoped to the tenant, committed when the block ends without an error. Without a tenant (probes, a job
        between tenants) each statement commits by itself and the tenants' tables show it nothing."""
        tenant = tenancy.current.get()
        async with self._pooled() as conn:
            if tenant is None:
                yield conn
                return
            await conn.execute(tenancy.scope_sql(tenant))
            try:
                yield conn
            except BaseException:
                # A connection still busy (a cancelled query) or broken cannot roll back now: the pool's release
                # waits for it, rolls back or closes it.
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        """A pooled connection in one transaction for the current tenant, committed when the block ends without
        an error. The same as connection(): row-level security needs a transaction for every tenant's
        statement, and the one that sets the tenant opens it."""
        if tenancy.current.get() is None:
            raise RuntimeError("a transaction outside any tenant: run it inside tenancy.serving(appid)")
        return self.connection()

    @asynccontextmanager
    async def listening(self, channel: str, wake: Callable[[], None]) -> AsyncIterator[None]:
        """Call wake() on every NOTIFY on channel while the block runs (one connection held for it)."""

        def on_notify(*_: object) -> None:
            wake()

        async with self._pooled() as conn:
            await conn.add_listener(channel, on_notify)
            try:
                yield
            finally:
                await conn.remove_listener(channel, on_notify)

    async def ping(self, timeout_s: float = 1.0) -> None:
        """Raise unless the database answers a trivial query within timeout_s."""
        async with asyncio.timeout(timeout_s), self._pooled() as conn:
            await conn.fetchval("SELECT 1")

    async def close(self) -> None:
        await self.pool.close()


async def _no_session_state(_conn: Connection) -> None:
    """Release without asyncpg's reset query (a round trip per release, 8 % of the gateway's CPU).

    Nothing here leaves session state on a pooled connection: no SET (only SET LOCAL), no advisory
    locks, cursors or prepared names of our own, and LISTEN only on the connection `listening` holds
    (it UNLISTENs before release). asyncpg still rolls back a transaction left open and drops listeners.
    """


async def _codecs(conn: Connection) -> None:
    """json and jsonb columns as Python values, through orjson."""
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


def affected(status: str) -> int:
    """The row count of a command tag asyncpg's execute returns ('UPDATE 1', 'INSERT 0 1', 'DELETE 3')."""
    return int(status.rsplit(" ", 1)[-1])


class Claim(enum.Enum):
    TAKEN = "taken"
    ALREADY = "already"
    NONE_LEFT = "none_left"


async def claim_one(
    conn: Connection, claim: str, claim_args: Sequence[Any], take: str, take_args: Sequence[Any]
) -> Claim:
    """Record a claimant and take one unit of a limited stock, both or neither (flash sales, coupons).

    claim inserts the claimant's row (ON CONFLICT DO NOTHING RETURNING, so a second claim returns no row);
    take decrements the stock only where some is left (RETURNING, so nothing left returns no row). A
    savepoint undoes the claim when nothing was left.
    """
    await conn.execute("SAVEPOINT claim_one")
    if await conn.fetchval(claim, *claim_args) is None:
        return Claim.ALREADY
    if await conn.fetchval(take, *take_args) is None:
        await conn.execute("ROLLBACK TO SAVEPOINT claim_one")
        return Claim.NONE_LEFT
    return Claim.TAKEN


def alembic_config(database_url: str, metadata: MetaData, versions: Path) -> Config:
    """Alembic settings for one service: its own schema, version table and revision directory."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_ENV))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    config.attributes.update(database_url=database_url, metadata=metadata)
    return config


def migrate(database_url: str, metadata: MetaData, versions: Path, revision: str = "head") -> None:
    """Upgrade this service's schema; run before the service starts (an init container in a pod)."""
    command.upgrade(alembic_config(database_url, metadata, versions), revision)
