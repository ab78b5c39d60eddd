"""The order saga's invariants, checked across the order, pay and inventory schemas (one PostgreSQL, a
schema per service): no order lost (charged but not paid), no double charge, no stock drift, no stock held by
an order unpaid past its deadline. Run after a load or a fault: `miniapp-service invariants` with
MINIAPP_DATABASE_URL; exit 1 when any is broken."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy import text

from miniapp_services.kit.db import engine as db_engine

# How late past its deadline an unpaid order may still be waiting for the sweep (order's EXPIRY_SWEEP_S, a
# release retried, a replica restarting) before its held stock counts as a broken invariant.
EXPIRY_SLACK_S = 30
# Each query lists what breaks the invariant; empty means it holds.
VIOLATIONS = {
    "orders lost (charged, never paid)": """
        select p.order_id from pay.payment p left join "order"."order" o on o.order_id = p.order_id
        where p.status = 'succeeded' and (o.order_id is null or o.status not in ('paid', 'charging', 'compensating'))""",
    "double charges (paid by another payment, or refunded yet paid)": """
        select o.order_id from "order"."order" o join pay.payment p on p.order_id = o.order_id
        where o.status = 'paid' and (p.status <> 'succeeded' or p.payment_id <> o.payment_id)""",
    "paid without a payment": """
        select o.order_id from "order"."order" o left join pay.payment p on p.order_id = o.order_id
        where o.status = 'paid' and p.order_id is null""",
    "stock drift (reservation state disagrees with its order)": """
        select r.order_id || ' ' || r.sku from inventory.reservation r join "order"."order" o on o.order_id = r.order_id
        where (r.state = 'reserved' and o.status in ('paid', 'cancelled'))
           or (r.state = 'committed' and o.status <> 'paid')
           or (r.state = 'released' and o.status = 'paid')""",
    "stock drift (counters disagree with reservations)": """
        select s.sku from inventory.stock s left join (
            select sku, sum(case when state = 'reserved' then quantity else 0 end) as reserved,
                        sum(case when state = 'committed' then quantity else 0 end) as committed
            from inventory.reservation group by sku) r on r.sku = s.sku
        where s.reserved <> coalesce(r.reserved, 0) or s.committed <> coalesce(r.committed, 0)""",
    # A module constant, not input: safe to put in the text, and the lab's psql gets the same query.
    "reservations held past the payment deadline": f"""
        select distinct o.order_id from "order"."order" o join inventory.reservation r on r.order_id = o.order_id
        where o.status = 'pending_payment' and r.state = 'reserved'
          and o.pay_by < now() - interval '{EXPIRY_SLACK_S:d} seconds'""",  # noqa: S608
}
UNFINISHED = """select order_id from "order"."order" where status in ('charging', 'compensating')"""
_UNFINISHED = "checkouts still in the saga"
# Every invariant and the checkouts still in the saga in one statement, so one snapshot: a checkout that leaves the
# saga between two separate queries (its stock committed, the order not yet paid, then paid) was once reported as
# stock drift and as finished. Rows are (name, what breaks it). Names are the module's constants, not input.
SNAPSHOT = " union all ".join(
    f"select '{name}' as invariant, q.item from ({query}) as q(item)"  # noqa: S608
    for name, query in {**VIOLATIONS, _UNFINISHED: UNFINISHED}.items()
)


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
            rows = (await db.execute(text(SNAPSHOT))).all()
    finally:
        await engine.dispose()
    return split((name, item) for name, item in rows)


def report(database_url: str) -> int:
    found, unfinished = asyncio.run(check(database_url))
    for name, rows in found.items():
        print(f"{'FAIL' if rows else 'ok  '} {name}: {len(rows)}{' ' + ', '.join(rows[:10]) if rows else ''}")
    print(f"info checkouts still in the saga: {len(unfinished)}")
    return 1 if any(found.values()) else 0
