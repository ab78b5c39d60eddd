"""Every implemented service's migrations produce exactly its ORM metadata, and rerunning them is a no-op."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from miniapp_services.kit.db import migrate
from miniapp_services.kit.settings import SERVICES
from miniapp_services.registry import spec_for


async def _diff(url: str, service: str) -> list:
    spec = spec_for(service)
    engine = create_async_engine(url)

    def compare(conn):
        def include(name: str, type_: str, _parent: object) -> bool:
            if type_ == "schema":
                return name == spec.metadata.schema
            return not (type_ == "table" and name == "alembic_version")

        opts = {"include_schemas": True, "include_name": include}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), spec.metadata)

    async with engine.connect() as conn:
        diff = await conn.run_sync(compare)
    await engine.dispose()
    return diff


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(database: str, service: str) -> None:
    spec = spec_for(service)
    migrate(database, spec.metadata, spec.migrations)
    migrate(database, spec.metadata, spec.migrations)
    assert asyncio.run(_diff(database, service)) == []
