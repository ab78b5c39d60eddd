"""Alembic environment shared by every service: the schema and metadata come from config.attributes."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from miniapp_services.kit.db import engine as connect


def _run(connection: Connection, metadata: MetaData) -> None:
    schema = metadata.schema
    # At a site the postgresql role made the schema, owned by this service, which has no right to create one
    # (CREATE SCHEMA checks that right before IF NOT EXISTS looks); elsewhere the service makes its own.
    exists = connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema})
    if exists.scalar() is None:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    attributes = context.config.attributes
    engine = connect(attributes["database_url"])
    async with engine.begin() as conn:
        await conn.run_sync(_run, attributes["metadata"])
    await engine.dispose()


asyncio.run(_online())
