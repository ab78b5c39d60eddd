"""PostgreSQL through SQLAlchemy 2 async + asyncpg: pooled engine, sessions, Alembic migrations per schema."""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Update, text
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from miniapp_services.kit.settings import Settings

_MIGRATIONS_ENV = Path(__file__).with_name("migrations")


def make_engine(settings: Settings) -> AsyncEngine:
    """One bounded pool per process: the design's connection reuse, sized by settings."""
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=True,
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine, timeout_s: float = 1.0) -> None:
    """Raise unless the database answers a trivial query within timeout_s."""
    async with asyncio.timeout(timeout_s), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


class Claim(enum.Enum):
    TAKEN = "taken"
    ALREADY = "already"
    NONE_LEFT = "none_left"


class _NoneLeft(Exception):
    pass


async def claim_one(session: AsyncSession, claim: Insert, take: Update) -> Claim:
    """Record a claimant and take one unit of a limited stock, both or neither (flash sales, coupons).

    claim inserts the claimant's row (its key makes a second claim a no-op); take decrements the stock
    only where some is left. A savepoint undoes the claim when nothing was left.
    """
    try:
        async with session.begin_nested():
            if (await session.execute(claim.on_conflict_do_nothing())).rowcount == 0:
                return Claim.ALREADY
            if (await session.execute(take)).rowcount == 0:
                raise _NoneLeft
    except _NoneLeft:
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
