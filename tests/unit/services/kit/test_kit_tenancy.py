"""Tenants apart in the database (issue 20, item 5): row-level security on every business table, the tenant set
per transaction by kit.db, held against the tables' owner (the service's own login, as at a site).

A query that forgets the tenant still sees only the transaction's tenant's rows; outside any tenant it sees none
and writes none; a row naming another tenant is refused; the jobs' read across tenants reads and never writes.
"""

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from alembic import command
from conftest import TENANT_A, TENANT_B

from miniapp_services import invariants
from miniapp_services.kit import tenancy
from miniapp_services.kit.db import Database, alembic_config, dsn, migrate
from miniapp_services.kit.settings import SERVICES, get_settings
from miniapp_services.registry import spec_for
from tools import pgtmp

A, B = TENANT_A, TENANT_B
PRODUCT = "INSERT INTO product.product (sku, title, price_cents, category, on_sale) VALUES ($1, $2, 300, 'tea', true)"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A cluster of this module's own (the migration tests need empty tables), every service migrated."""
    with pgtmp.postgres() as found:
        for service in SERVICES:
            spec = spec_for(service)
            migrate(found, spec.metadata, spec.migrations)
        yield found


def _run(url: str, *steps: tuple[str | None, str, tuple[object, ...]]) -> list[object]:
    """Each step (tenant, statement, args) on the service's pool, as kit.db scopes it; the rows each fetched."""

    async def run() -> list[object]:
        db = await Database.open(get_settings(service="product", database_url=url))
        found: list[object] = []
        try:
            for tenant, statement, args in steps:
                token = tenancy.current.set(tenant)
                try:
                    async with db.connection() as conn:
                        found.append([tuple(r) for r in await conn.fetch(statement, *args)])
                finally:
                    tenancy.current.reset(token)
        finally:
            await db.close()
        return found

    return asyncio.run(run())


def test_each_tenant_sees_and_writes_only_its_own_rows(url: str) -> None:
    everything = "SELECT tenant, sku, title FROM product.product ORDER BY tenant, sku"  # no tenant filter
    found = _run(
        url,
        (A, PRODUCT, ("TEA-1", "A's tea")),
        (B, PRODUCT, ("TEA-1", "B's tea")),  # the same SKU: each tenant's own, no conflict
        (B, PRODUCT, ("TEA-2", "B's second")),
        (A, everything, ()),
        (B, everything, ()),
        (None, everything, ()),
        (tenancy.EVERY, everything, ()),  # product has no job reading across tenants: nothing
    )
    assert found[3:] == [
        [(A, "TEA-1", "A's tea")],
        [(B, "TEA-1", "B's tea"), (B, "TEA-2", "B's second")],
        [],
        [],
    ]


# B's row written under A, a row written outside any tenant or under the jobs' scope, A's rows moved to B.
FOREIGN = "INSERT INTO product.product (tenant, sku, title, price_cents, category, on_sale) VALUES"
LITERAL = PRODUCT.replace("$1", "'X'").replace("$2", "'t'")


@pytest.mark.parametrize(
    ("tenant", "statement", "words"),
    [
        (A, FOREIGN + f" ('{B}', 'X', 't', 1, 'c', true)", "row-level security"),
        (None, LITERAL, "app.tenant"),
        (tenancy.EVERY, LITERAL, "row-level security|tenant_is_appid"),
        (A, f"UPDATE product.product SET tenant = '{B}'", "row-level security"),  # noqa: S608  # the test's own appid
    ],
)
def test_a_write_outside_its_tenant_is_refused(url: str, tenant: str | None, statement: str, words: str) -> None:
    _run(url, (A, PRODUCT + " ON CONFLICT DO NOTHING", ("MOVE-ME", "kept")))
    with pytest.raises(asyncpg.PostgresError, match=words):
        _run(url, (tenant, statement, ()))


def test_the_jobs_read_across_tenants_and_write_nothing(url: str) -> None:
    order = """INSERT INTO "order"."order" (order_id, user_id, status, total_cents)
        VALUES ($1, 1, 'pending_payment', 300)"""
    every = 'SELECT tenant, order_id FROM "order"."order" ORDER BY tenant'
    found = _run(url, (A, order, ("o-1",)), (B, order, ("o-1",)), (tenancy.EVERY, every, ()))
    assert found[2] == [(A, "o-1"), (B, "o-1")]
    changed = _run(url, (tenancy.EVERY, """UPDATE "order"."order" SET status = 'cancelled' RETURNING 1""", ()))
    assert changed == [[]]


def test_a_tenants_transaction_rolls_back_on_an_error(url: str) -> None:
    async def fail_midway() -> None:
        db = await Database.open(get_settings(service="product", database_url=url))
        try:
            with tenancy.serving(A):
                async with db.connection() as conn:
                    await conn.execute(PRODUCT, "ROLLED-BACK", "never")
                    raise RuntimeError("after the insert")
        finally:
            await db.close()

    with pytest.raises(RuntimeError, match="after the insert"):
        asyncio.run(fail_midway())
    assert _run(url, (A, "SELECT sku FROM product.product WHERE sku = 'ROLLED-BACK'", ())) == [[]]


def test_the_owner_login_is_held_by_the_policies(url: str) -> None:
    """The service logs in as its tables' owner: FORCE holds it too, and it is no superuser nor BYPASSRLS."""

    async def read() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(dsn(url))
        try:
            rows = await conn.fetch(
                """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, r.rolsuper OR r.rolbypassrls
                FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname = ANY($1::text[]) AND c.relname <> 'alembic_version'""",
                list(SERVICES),
            )
        finally:
            await conn.close()
        return [tuple(r) for r in rows]

    tables = asyncio.run(read())
    assert len(tables) == sum(len(spec_for(s).metadata.tables) for s in SERVICES)
    assert {row[1:] for row in tables} == {(True, True, False)}


def test_isolation_migrates_down_and_up_again_and_refuses_rows_of_no_tenant(url: str) -> None:
    spec = spec_for("cart")
    config = alembic_config(url, spec.metadata, spec.migrations)
    command.downgrade(config, "cart_0001")
    asyncio.run(_plain(url, "INSERT INTO cart.item (user_id, sku, quantity) VALUES (1, 'OLD', 1)"))
    with pytest.raises(RuntimeError, match=r"cart\.item holds 1 rows from before tenancy"):
        command.upgrade(config, "head")
    asyncio.run(_plain(url, "DELETE FROM cart.item"))
    command.upgrade(config, "head")
    assert _run(url, (A, "INSERT INTO cart.item (user_id, sku, quantity) VALUES (1, 'NEW', 1) RETURNING tenant", ()))
    assert _run(url, (B, "SELECT sku FROM cart.item", ())) == [[]]


async def _plain(url: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def test_the_invariants_hold_per_tenant_and_name_the_tenant_at_fault(url: str) -> None:
    """A's order paid by its payment and B's order of the same id unpaid and uncharged hold every invariant (joined
    by id alone, A's payment would count as B's order charged and never paid); B paid without a payment is B's."""
    order = """INSERT INTO "order"."order" (order_id, user_id, status, payment_id, total_cents)
        VALUES ($1, 1, $2, $3, 300)"""
    payment = "INSERT INTO pay.payment (order_id, payment_id, amount_cents, status) VALUES ($1, $2, 300, 'succeeded')"
    _run(url, (A, order, ("same-id", "paid", "pay-a")), (A, payment, ("same-id", "pay-a")))
    _run(url, (B, order, ("same-id", "pending_payment", None)))
    found, _ = asyncio.run(invariants.check(pgtmp.as_superuser(url)))
    assert not any(found.values()), found
    _run(url, (B, order, ("b-paid", "paid", "pay-none")))
    found, _ = asyncio.run(invariants.check(pgtmp.as_superuser(url)))
    assert {name: rows for name, rows in found.items() if rows} == {"paid without a payment": [f"{B}/b-paid"]}


def test_the_invariants_refuse_a_login_the_policies_hold(url: str) -> None:
    with pytest.raises(invariants.NotEveryTenant, match="superuser or BYPASSRLS"):
        asyncio.run(invariants.check(url))
