"""What a mini-program user does in each journey, as the requests the gateway receives.

A journey is a generator of steps: it yields a Step, is sent back the Reply, and decides the next step
from it (a queued order is not paid; a lost flash sale ends the visit). Pure: the Locust user sends the
requests, the tests drive the generators with made-up replies.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    body: dict[str, Any] | None = None
    # Answers that are a success for the user: a business "no" (already checked in, sold out) is not an error.
    ok: frozenset[int] = frozenset({200, 201, 204})
    # Whether the journey reads the answer's body (the load decodes only those: it shares the lab's cores).
    reads: bool = False


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None


@dataclass(frozen=True)
class Catalogue:
    """What the run seeded: products with stock, and a flash sale open for the whole run."""

    skus: tuple[str, ...]
    event_id: str
    search_terms: tuple[str, ...] = ("tea", "rice", "noodles")


Journey = Generator[Step, Reply, None]
CREATED_OR_QUEUED = frozenset({201, 202})
CONFLICT_IS_AN_ANSWER = frozenset({200, 201, 409})


@dataclass
class Visit:
    """One user's identity for the journeys: order ids are unique per user and visit."""

    user: str
    catalogue: Catalogue
    rng: random.Random = field(default_factory=random.Random)
    orders: int = 0

    def next_order_id(self) -> str:
        self.orders += 1
        return f"{self.user}-o{self.orders}"

    def sku(self) -> str:
        return self.rng.choice(self.catalogue.skus)


def browse(visit: Visit) -> Journey:
    yield Step("GET", "/api/home")
    yield Step("GET", f"/api/products/{visit.sku()}")
    yield Step("GET", f"/api/search?q={visit.rng.choice(visit.catalogue.search_terms)}")
    sku = visit.sku()
    yield Step("GET", f"/api/products/{sku}")
    yield Step("PUT", f"/api/cart/items/{sku}", {"quantity": 1})


def checkin(_visit: Visit) -> Journey:
    yield Step("GET", "/api/home")
    yield Step("POST", "/api/checkin", ok=CONFLICT_IS_AN_ANSWER)


def order_pay(visit: Visit) -> Journey:
    sku = visit.sku()
    yield Step("GET", f"/api/products/{sku}")
    yield from _buy(visit, sku)


def flash_sale(visit: Visit) -> Journey:
    yield Step("GET", "/api/home")
    won = yield Step("POST", f"/api/seckill/{visit.catalogue.event_id}", ok=CONFLICT_IS_AN_ANSWER)
    if won.status == 201:
        yield from _buy(visit, visit.catalogue.skus[0])


def _buy(visit: Visit, sku: str) -> Journey:
    """Place the order, pay it, and open the payment result page; a queued order (202) is paid later."""
    order_id = visit.next_order_id()
    lines = [{"sku": sku, "quantity": 1}]
    placed = yield Step("POST", "/api/orders", {"order_id": order_id, "lines": lines}, ok=CREATED_OR_QUEUED, reads=True)
    if placed.status != 201:
        return
    paid = yield Step("POST", "/api/payments", {"order_id": order_id, "amount_cents": placed.body["total_cents"]})
    if paid.status in (200, 201):
        yield Step("GET", f"/api/payments/{order_id}")


JOURNEYS = {"browse": browse, "checkin": checkin, "order_pay": order_pay, "flash_sale": flash_sale}
