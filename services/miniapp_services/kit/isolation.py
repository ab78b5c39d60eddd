"""Row-level security per tenant on a service's tables: the models' tenant column, and the migration step that
puts a table under its tenants' isolation (and takes it back out).

Every business row names its tenant. Its column defaults to the transaction's tenant (kit.tenancy), so an INSERT
need not name it, and a CHECK refuses anything but an appid. The policy lets a transaction see and write only the
rows of the tenant it was scoped to; the table is FORCEd, so its owner (the service's own login) is held by it too.
A statement outside any tenant sees nothing and can write nothing. Keys and unique constraints gain the tenant:
two merchants may use the same SKU or order id, and neither learns that the other did (a global key would refuse
the second one, a covert channel RLS does not close).

A table a background job scans across tenants (`jobs_read`) also lets a transaction scoped to tenancy.EVERY read
every row, never write one; the job then acts on each row under the row's own tenant. Its key leads with its own
columns, because the policy's OR keeps the tenant out of an index condition; elsewhere the tenant leads, so the
policy is the index's first condition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from miniapp_services.kit import tenancy

COLUMN = "tenant"
_DEFAULT = f"current_setting('{tenancy.SETTING}')"
_SCOPE = f"current_setting('{tenancy.SETTING}', true)"
_CHECK = f"{COLUMN} ~ '{tenancy.APPID_PATTERN}'"


class Tenanted:
    """Mixin for a model whose rows belong to a tenant (declare it first: the column joins the primary key)."""

    @declared_attr
    def tenant(cls) -> Mapped[str]:
        return mapped_column(sa.String(32), primary_key=True, server_default=sa.text(_DEFAULT))


def check(table: str) -> sa.CheckConstraint:
    """The model's copy of the CHECK the migration adds."""
    return sa.CheckConstraint(_CHECK, name=f"{table}_tenant_is_appid")


@dataclass(frozen=True)
class Reference:
    """A foreign key of the table: its columns and the ones they name in the referenced table."""

    columns: tuple[str, ...]
    table: str
    remote: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table as the migration isolates it: its key and unique columns before tenancy, and its foreign keys."""

    schema: str
    name: str
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    references: tuple[Reference, ...] = ()
    jobs_read: bool = False

    @property
    def qualified(self) -> str:
        return f'"{self.schema}"."{self.name}"'

    def tenant_key(self) -> list[str]:
        return [*self.key, COLUMN] if self.jobs_read else [COLUMN, *self.key]


def unique_name(table: str, columns: Sequence[str]) -> str:
    return f"{table}_{'_'.join(columns)}_key"


def reference_name(table: str, reference: Reference) -> str:
    return f"{table}_{'_'.join(reference.columns)}_fkey"


def isolate(tables: Sequence[Table]) -> None:
    """Upgrade: tenant column, keys and policies on every table (referenced tables before their referrers)."""
    for table in tables:
        _refuse_rows(table)
        for ref in table.references:
            op.drop_constraint(reference_name(table.name, ref), table.name, schema=table.schema, type_="foreignkey")
    for table in tables:
        # The default after the column: added with it, PostgreSQL evaluates it once for the rows there are (none).
        op.add_column(table.name, sa.Column(COLUMN, sa.String(32)), schema=table.schema)
        op.alter_column(table.name, COLUMN, schema=table.schema, nullable=False, server_default=sa.text(_DEFAULT))
        op.create_check_constraint(f"{table.name}_tenant_is_appid", table.name, _CHECK, schema=table.schema)
        _rekey(table, table.tenant_key(), [[COLUMN, *cols] for cols in table.unique])
    for table in tables:
        for ref in table.references:
            _refer(table, ref, [COLUMN, *ref.columns], [COLUMN, *ref.remote])
        op.execute(f"ALTER TABLE {table.qualified} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table.qualified} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table.qualified} USING ({COLUMN} = {_SCOPE})")
        if table.jobs_read:
            op.execute(
                f"CREATE POLICY every_tenant_read ON {table.qualified} FOR SELECT USING ({_SCOPE} = '{tenancy.EVERY}')"
            )


def release(tables: Sequence[Table]) -> None:
    """Downgrade: the tables as they were before isolate (refused by their keys if two tenants share one)."""
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS every_tenant_read ON {table.qualified}")
        op.execute(f"DROP POLICY tenant_isolation ON {table.qualified}")
        op.execute(f"ALTER TABLE {table.qualified} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table.qualified} DISABLE ROW LEVEL SECURITY")
        for ref in table.references:
            op.drop_constraint(reference_name(table.name, ref), table.name, schema=table.schema, type_="foreignkey")
    for table in tables:
        _rekey(table, list(table.key), [list(cols) for cols in table.unique])
        op.drop_column(table.name, COLUMN, schema=table.schema)
    for table in tables:
        for ref in table.references:
            _refer(table, ref, list(ref.columns), list(ref.remote))


def _rekey(table: Table, key: list[str], unique: list[list[str]]) -> None:
    op.drop_constraint(f"{table.name}_pkey", table.name, schema=table.schema, type_="primary")
    op.create_primary_key(f"{table.name}_pkey", table.name, key, schema=table.schema)
    for before, after in zip(table.unique, unique, strict=True):
        op.drop_constraint(unique_name(table.name, before), table.name, schema=table.schema, type_="unique")
        op.create_unique_constraint(unique_name(table.name, before), table.name, after, schema=table.schema)


def _refer(table: Table, ref: Reference, columns: list[str], remote: list[str]) -> None:
    op.create_foreign_key(
        reference_name(table.name, ref),
        table.name,
        ref.table,
        columns,
        remote,
        source_schema=table.schema,
        referent_schema=table.schema,
    )


def _refuse_rows(table: Table) -> None:
    """Rows written before tenancy belong to no merchant: say so rather than fail on the column's default."""
    rows = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table.qualified}")).scalar_one()  # noqa: S608
    if rows:
        raise RuntimeError(
            f"{table.schema}.{table.name} holds {rows} rows from before tenancy, which name no merchant: give them"
            f" one (add the column {COLUMN!r} with that appid by hand) or empty the table, then migrate again"
        )
