"""Inventory's domain: stock per SKU and reservations per order, with stock conserved.

available + reserved + committed changes only by restocking; a reservation moves units from available
to reserved, a commit from reserved to committed, a release back to available.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from miniapp_services.kit.errors import Conflict, DomainError


class State(enum.StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    COMMITTED = "committed"


@dataclass(frozen=True)
class Stock:
    sku: str
    available: int
    reserved: int = 0
    committed: int = 0

    @property
    def total(self) -> int:
        return self.available + self.reserved + self.committed


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sku: str
    quantity: int
    state: State = State.RESERVED


def restock(stock: Stock, available: int) -> Stock:
    if available < 0:
        raise DomainError("available must be 0 or more", field="available")
    return replace(stock, available=available)


def reserve(stock: Stock, order_id: str, quantity: int) -> tuple[Stock, Reservation]:
    if quantity < 1:
        raise DomainError("quantity must be 1 or more", field="quantity")
    if stock.available < quantity:
        raise Conflict(f"only {stock.available} of {stock.sku} available, {quantity} asked", field="quantity")
    moved = replace(stock, available=stock.available - quantity, reserved=stock.reserved + quantity)
    return moved, Reservation(order_id, stock.sku, quantity)


def settle(stock: Stock, reservation: Reservation, to: State) -> tuple[Stock, Reservation]:
    """Release or commit a reservation; repeating the same settlement changes nothing (idempotent)."""
    if reservation.state == to:
        return stock, reservation
    if reservation.state != State.RESERVED:
        raise Conflict(f"reservation of order {reservation.order_id} is {reservation.state}, cannot become {to}")
    qty = reservation.quantity
    if to == State.RELEASED:
        stock = replace(stock, available=stock.available + qty, reserved=stock.reserved - qty)
    else:
        stock = replace(stock, reserved=stock.reserved - qty, committed=stock.committed + qty)
    return stock, replace(reservation, state=to)
