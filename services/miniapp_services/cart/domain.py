"""Carts: what a user means to buy, priced live from the catalogue when shown."""

from __future__ import annotations

from dataclasses import dataclass

from miniapp_services.kit.errors import DomainError

MAX_ITEMS = 50


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PricedItem:
    sku: str
    quantity: int
    unit_price_cents: int | None


def check_room(skus_in_cart: set[str], sku: str) -> None:
    if sku not in skus_in_cart and len(skus_in_cart) >= MAX_ITEMS:
        raise DomainError(f"a cart holds at most {MAX_ITEMS} different skus", field="sku")


def total_cents(items: list[PricedItem]) -> int | None:
    """The cart's total, or None when any price is unknown (the catalogue did not answer)."""
    if any(item.unit_price_cents is None for item in items):
        return None
    return sum(item.quantity * (item.unit_price_cents or 0) for item in items)
