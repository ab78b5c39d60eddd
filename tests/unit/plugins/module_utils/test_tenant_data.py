"""A removed tenant's rows kept, then deleted (module_utils/tenant_data, the tenant_data module's core), on
PostgreSQL 15 with every service's migrations: parents and children (order and its lines, a coupon and its
claims, a flash sale and its winners) of tenant A go, B's rows with the same keys stay, and a second pass finds
nothing."""

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
from sqlalchemy.engine import make_url

from ansible_collections.miniapp.mesh.plugins.module_utils import tenant_data
from ansible_collections.miniapp.mesh.plugins.module_utils.tenant_data import Table, TenantDataError
from miniapp_services.kit.db import migrate
from miniapp_services.kit.settings import SERVICES
from miniapp_services.registry import spec_for
from tools import pgtmp

A, B = "wx00000000000000a1", "wx00000000000000b2"
# Parents and their children, each tenant with the same keys (the tenant joins every key).
SEED = (
    "INSERT INTO \"order\".\"order\" (order_id, user_id, status, total_cents, tenant) VALUES ('o-1', 1, 'paid', 300, %s)",
    "INSERT INTO \"order\".line (order_id, sku, quantity, unit_price_cents, tenant) VALUES ('o-1', 'TEA', 1, 300, %s)",
    "INSERT INTO coupon.template (code, discount_cents, min_total_cents, total, remaining, tenant)"
    " VALUES ('C5', 5, 0, 10, 9, %s)",
    "INSERT INTO coupon.claim (code, user_id, tenant) VALUES ('C5', 1, %s)",
    "INSERT INTO seckill.event (event_id, sku, price_cents, stock, remaining, starts_at, ends_at, tenant)"
    " VALUES ('e-1', 'TEA', 100, 5, 4, now(), now() + interval '1 hour', %s)",
    "INSERT INTO seckill.winner (event_id, user_id, won_at, tenant) VALUES ('e-1', 1, now(), %s)",
    "INSERT INTO product.product (sku, title, price_cents, category, on_sale, tenant)"
    " VALUES ('TEA', 'Tea, \"green\"', 300, 'tea', true, %s)",
)


@pytest.fixture
def cursor() -> Iterator[Any]:
    """A superuser's cursor in a REPEATABLE READ transaction, on a database every service migrated, both tenants
    seeded; rolled back after."""
    with pgtmp.postgres() as url:
        for service in SERVICES:
            spec = spec_for(service)
            migrate(url, spec.metadata, spec.migrations)
        found = make_url(pgtmp.as_superuser(url))
        connection = psycopg2.connect(host=found.host, port=found.port, user=found.username, dbname=found.database)
        connection.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        with connection.cursor() as seeding:
            for statement in SEED:
                for tenant in (A, B):
                    seeding.execute(statement, (tenant,))
        connection.commit()
        try:
            with connection.cursor() as cur:
                yield cur
        finally:
            connection.close()


def _tables(cur: Any) -> tuple[Table, ...]:
    return tenant_data.tenant_tables(cur, list(SERVICES))


def _seeded(rows: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in rows.items() if n}


SEEDED = dict.fromkeys(("order.order", "order.line", "coupon.template", "coupon.claim", "seckill.event"), 1) | {
    "seckill.winner": 1,
    "product.product": 1,
}


def test_every_tenant_table_is_found_children_before_parents(cursor: Any) -> None:
    tables = _tables(cursor)
    labels = [t.label for t in tables]
    assert len(labels) == 16  # every business table of the 12 services (alembic's own tables have no tenant)
    for child, parent in (("order.line", "order.order"), ("coupon.claim", "coupon.template")):
        assert labels.index(child) < labels.index(parent)
    assert labels.index("seckill.winner") < labels.index("seckill.event")


def test_archive_moves_the_tenants_rows_and_leaves_the_others(cursor: Any) -> None:
    tables = _tables(cursor)
    kept = tenant_data.archive(cursor, tables, A, "20261207T000000Z")
    assert kept.location == f"archive_{A}"
    assert _seeded(kept.rows) == SEEDED
    assert _seeded(tenant_data.counts(cursor, tables, A)) == {}
    assert _seeded(tenant_data.counts(cursor, tables, B)) == SEEDED
    cursor.execute(f'SELECT order_id, tenant FROM "archive_{A}".order__line')  # noqa: S608  # the archive schema of a constant appid
    assert cursor.fetchall() == [("o-1", A)]
    cursor.execute(f'SELECT title FROM "archive_{A}".product__product')  # noqa: S608  # the archive schema of a constant appid
    assert cursor.fetchall() == [('Tea, "green"',)]
    # The archive's tables keep their checks: a row of no appid is refused there too.
    with pytest.raises(psycopg2.errors.CheckViolation):
        cursor.execute(f"INSERT INTO \"archive_{A}\".product__product SELECT 'X', 'x', 1, 'tea', true, 'nobody'")


def test_a_second_archive_finds_nothing_and_keeps_what_the_first_kept(cursor: Any) -> None:
    tables = _tables(cursor)
    tenant_data.archive(cursor, tables, A, "20261207T000000Z")
    again = tenant_data.archive(cursor, tables, A, "20261207T000100Z")
    assert _seeded(again.rows) == {}
    cursor.execute(f'SELECT count(*) FROM "archive_{A}"."order__order"')  # noqa: S608  # the archive schema of a constant appid
    assert cursor.fetchall() == [(1,)]


def test_export_writes_checked_files_restorable_by_copy(cursor: Any, tmp_path: Path) -> None:
    tables = _tables(cursor)
    directory = tmp_path / f"{A}-20261207T000000Z"
    kept = tenant_data.export(cursor, tables, A, directory, "20261207T000000Z")
    assert kept.location == str(directory)
    assert _seeded(kept.rows) == SEEDED
    assert directory.stat().st_mode & 0o777 == 0o700
    sums = dict(line.split("  ")[::-1] for line in (directory / tenant_data.SUMS).read_text().splitlines())
    assert len(sums) == 17  # 16 tables and the manifest
    assert {Path(path).name for path, _ in kept.files} == {*sums, tenant_data.SUMS}  # what the module fetches
    for name, digest in sums.items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest
        assert (directory / name).stat().st_mode & 0o777 == 0o600
    product = list(csv.DictReader(io.StringIO((directory / "product.product.csv").read_text())))
    assert [(r["sku"], r["title"], r["tenant"]) for r in product] == [("TEA", 'Tea, "green"', A)]
    assert _seeded(tenant_data.counts(cursor, tables, A)) == {}
    assert tenant_data.earlier_export(tmp_path, A) == str(directory)
    assert tenant_data.earlier_export(tmp_path, B) == ""
    # What was exported goes back with COPY FROM (children after their parents).
    for table in reversed(tables):
        with (directory / f"{table.label}.csv").open("rb") as source:
            cursor.copy_expert(f"COPY {table.sql} FROM STDIN WITH (FORMAT csv, HEADER true)", source)
    assert _seeded(tenant_data.counts(cursor, tables, A)) == SEEDED


def test_deletion_order_refuses_a_cycle_and_ignores_self_references() -> None:
    a, b, c = Table("s", "a"), Table("s", "b"), Table("s", "c")
    assert tenant_data.deletion_order([a, b, c], [(b, a), (c, b), (a, a)]) == (c, b, a)
    with pytest.raises(TenantDataError, match="cycle"):
        tenant_data.deletion_order([a, b], [(a, b), (b, a)])


@pytest.mark.parametrize("appid", ["wx1", "WX00000000000000A1", "wx00000000000000a1'; DROP TABLE x; --", None])
def test_an_appid_not_of_the_platform_is_refused_naming_the_field(appid: object) -> None:
    with pytest.raises(TenantDataError, match=r"^appid: .* is not a mini-program appid"):
        tenant_data.archive_schema(appid)  # type: ignore[arg-type]
