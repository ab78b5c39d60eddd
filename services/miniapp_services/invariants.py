"""The order saga's invariants, checked across the order, pay and inventory schemas (one PostgreSQL, a
schema per service): no order lost (charged but not paid), no double charge, no stock drift, no stock held by
an order unpaid past its deadline, each within one tenant. Run after a load or a fault: `miniapp-service
invariants` with MINIAPP_DATABASE_URL a role that sees every tenant; exit 1 when any is broken."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable

from sqlalchemy import text

from miniapp_services.kit.db import engine as db_engine

# How late past its deadline an unpaid order may still be waiting for the sweep (order's EXPIRY_SWEEP_S, a
# release retried, a replica restarting) before its held stock counts as a broken invariant.
EXPIRY_SLACK_S = 30
# Each query lists what breaks the invariant, as "tenant/order_id" (or "tenant/sku"); empty means it holds. Every
# join and grouping keeps to one tenant: two merchants may use the same order id or SKU.
VIOLATIONS = {
    "orders lost (charged, never paid)": """
        select p.tenant || '/' || p.order_id from pay.payment p
        left join "order"."order" o on o.tenant = p.tenant and o.order_id = p.order_id
        where p.status = 'succeeded' and (o.order_id is null or o.status not in ('paid', 'charging', 'compensating'))""",
    "double charges (paid by another payment, or refunded yet paid)": """
        select o.tenant || '/' || o.order_id from "order"."order" o
        join pay.payment p on p.tenant = o.tenant and p.order_id = o.order_id
        where o.status = 'paid' and (p.status <> 'succeeded' or p.payment_id <> o.payment_id)""",
    "paid without a payment": """
        select o.tenant || '/' || o.order_id from "order"."order" o
        left join pay.payment p on p.tenant = o.tenant and p.order_id = o.order_id
        where o.status = 'paid' and p.order_id is null""",
    "stock drift (reservation state disagrees with its order)": """
        select r.tenant || '/' || r.order_id || ' ' || r.sku from inventory.reservation r
        join "order"."order" o on o.tenant = r.tenant and o.order_id = r.order_id
        where (r.state = 'reserved' and o.status in ('paid', 'cancelled'))
           or (r.state = 'committed' and o.status <> 'paid')
           or (r.state = 'released' and o.status = 'paid')""",
    "stock drift (counters disagree with reservations)": """
        select s.tenant || '/' || s.sku from inventory.stock s left join (
            select tenant, sku, sum(case when state = 'reserved' then quantity else 0 end) as reserved,
                                sum(case when state = 'committed' then quantity else 0 end) as committed
            from inventory.reservation group by tenant, sku) r on r.tenant = s.tenant and r.sku = s.sku
        where s.reserved <> coalesce(r.reserved, 0) or s.committed <> coalesce(r.committed, 0)""",
    # A module constant, not input: safe to put in the text, and the lab's psql gets the same query.
    "reservations held past the payment deadline": f"""
        select distinct o.tenant || '/' || o.order_id from "order"."order" o
        join inventory.reservation r on r.tenant = o.tenant and r.order_id = o.order_id
        where o.status = 'pending_payment' and r.state = 'reserved'
          and o.pay_by < now() - interval '{EXPIRY_SLACK_S:d} seconds'""",  # noqa: S608
}
UNFINISHED = """select tenant || '/' || order_id from "order"."order" where status in ('charging', 'compensating')"""
_UNFINISHED = "checkouts still in the saga"
# Every invariant and the checkouts still in the saga in one statement, so one snapshot: a checkout that leaves the
# saga between two separate queries (its stock committed, the order not yet paid, then paid) was once reported as
# stock drift and as finished. Rows are (name, what breaks it). Names are the module's constants, not input.
SNAPSHOT = " union all ".join(
    f"select '{name}' as invariant, q.item from ({query}) as q(item)"  # noqa: S608
    for name, query in {**VIOLATIONS, _UNFINISHED: UNFINISHED}.items()
)
# Row-level security shows a role held by it no tenant's rows outside a tenant's transaction: the checker would
# find nothing and pass. It refuses to run as such a role.
_SEES_EVERY_TENANT = "select rolsuper or rolbypassrls from pg_roles where rolname = current_user"


class NotEveryTenant(RuntimeError):
    """The checker's role cannot see every tenant's rows."""


def split(rows: Iterable[tuple[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """SNAPSHOT's rows as violations by invariant and the checkouts still in the saga."""
    found: dict[str, list[str]] = {name: [] for name in VIOLATIONS}
    unfinished: list[str] = []
    for name, item in rows:
        (unfinished if name == _UNFINISHED else found[name]).append(item)
    return found, unfinished


async def check(database_url: str) -> tuple[dict[str, list[str]], list[str]]:
    """Violations by invariant, and the checkouts still between steps (recovery finishes them), from one snapshot."""
    engine = db_engine(database_url)
    try:
        async with engine.connect() as db:
            if not (await db.execute(text(_SEES_EVERY_TENANT))).scalar_one():
                raise NotEveryTenant(
                    "the invariants need a role row-level security does not hold (a superuser or BYPASSRLS): a"
                    " service's login sees no tenant's rows here, so every check would pass on nothing;"
                    " set MINIAPP_DATABASE_URL to the database superuser's"
                )
            rows = (await db.execute(text(SNAPSHOT))).all()
    finally:
        await engine.dispose()
    return split((name, item) for name, item in rows)


def report(database_url: str) -> int:
    try:
        found, unfinished = asyncio.run(check(database_url))
    except NotEveryTenant as err:
        print(f"miniapp-service invariants: {err}", file=sys.stderr)
        return 2
    for name, rows in found.items():
        print(f"{'FAIL' if rows else 'ok  '} {name}: {len(rows)}{' ' + ', '.join(rows[:10]) if rows else ''}")
    print(f"info checkouts still in the saga: {len(unfinished)}")
    return 1 if any(found.values()) else 0
