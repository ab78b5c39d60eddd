"""Orders: lines priced from the catalogue, a total, and a status that only moves forward.

PENDING_PAYMENT -> CANCELLED (by the buyer, or by the payment deadline: an order unpaid by its pay_by time is
expired and its stock released), or the checkout saga: PENDING_PAYMENT -> CHARGING (the charge is asked of
pay) -> PAID (once, by one payment, stock committed), or CHARGING -> COMPENSATING (refund, release) ->
CANCELLED. CHARGING and COMPENSATING are recorded before the remote step, so a crash or a broken stream
leaves an order the recovery finds and finishes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from miniapp_services.clients.order_limits import MAX_LINES
from miniapp_services.kit.errors import Conflict, DomainError


class Status(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CHARGING = "charging"
    COMPENSATING = "compensating"
    PAID = "paid"
    CANCELLED = "cancelled"


IN_SAGA = (Status.CHARGING, Status.COMPENSATING)
# An order as a job finds it across tenants: its tenant (the merchant's appid) and its id.
Owned = tuple[str, str]


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Order:
    order_id: str
    user_id: int
    lines: tuple[Line, ...]
    status: Status = Status.PENDING_PAYMENT
    payment_id: str | None = None
    # When an unpaid order is expired; fixed at placement, so a changed deadline binds new orders only.
    pay_by: datetime | None = None

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)


def new_order(
    order_id: str, user_id: int, lines: tuple[Line, ...], placed_at: datetime, deadline: timedelta | None = None
) -> Order:
    """A priced order awaiting payment; with a deadline, it must be paid by placed_at + deadline."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise DomainError(f"an order has 1 to {MAX_LINES} lines", field="lines")
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise DomainError("each sku may appear once; add up the quantities instead", field="lines")
    return Order(order_id, user_id, lines, pay_by=None if deadline is None else placed_at + deadline)


def expire(order: Order, now: datetime) -> Order:
    """Cancel an order still unpaid at its pay_by time; anything else (paid, in the saga, not yet due, no
    deadline) is left as it is, so a late or repeated expiry changes nothing."""
    if order.status is Status.PENDING_PAYMENT and order.pay_by is not None and now >= order.pay_by:
        return replace(order, status=Status.CANCELLED)
    return order


def same_request(order: Order, user_id: int, wanted: dict[str, int]) -> bool:
    """Whether a retried placement asks for exactly this order (same user, skus and quantities)."""
    return order.user_id == user_id and {line.sku: line.quantity for line in order.lines} == wanted


def pay(order: Order, payment_id: str) -> Order:
    """Mark paid by payment_id; the same payment again changes nothing, another one is a double charge."""
    if order.status == Status.PAID:
        if order.payment_id != payment_id:
            raise Conflict(f"order {order.order_id} is already paid by {order.payment_id}", field="payment_id")
        return order
    if order.status not in (Status.PENDING_PAYMENT, Status.CHARGING):
        raise Conflict(f"order {order.order_id} is {order.status}, it cannot be paid", field="order_id")
    return replace(order, status=Status.PAID, payment_id=payment_id)


def cancel(order: Order) -> Order:
    """Cancel an unpaid order (or finish a saga's compensation)."""
    if order.status == Status.CANCELLED:
        return order
    if order.status not in (Status.PENDING_PAYMENT, Status.COMPENSATING):
        raise Conflict(f"order {order.order_id} is {order.status}, it cannot be cancelled", field="order_id")
    return replace(order, status=Status.CANCELLED)


def begin_charge(order: Order) -> Order:
    """Checkout starts (or resumes) the saga; a paid order needs nothing more."""
    if order.status in (Status.CHARGING, Status.PAID, Status.COMPENSATING):
        return order
    if order.status != Status.PENDING_PAYMENT:
        raise Conflict(f"order {order.order_id} is {order.status}, it cannot be checked out", field="order_id")
    return replace(order, status=Status.CHARGING)


def begin_compensation(order: Order) -> Order:
    if order.status in (Status.COMPENSATING, Status.CANCELLED):
        return order
    if order.status not in (Status.CHARGING, Status.PENDING_PAYMENT):
        raise Conflict(f"order {order.order_id} is {order.status}, it cannot be compensated", field="order_id")
    return replace(order, status=Status.COMPENSATING)
