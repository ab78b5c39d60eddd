"""Payments: one per order, for exactly the order's total, so an order is never charged twice."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from miniapp_services.kit.errors import Conflict


class PaymentStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Payment:
    order_id: str
    payment_id: str
    amount_cents: int
    status: PaymentStatus = PaymentStatus.SUCCEEDED


def payment_id_for(order_id: str) -> str:
    """The payment id is derived from the order, so two racing charges of one order collide."""
    return "pay-" + hashlib.sha256(order_id.encode()).hexdigest()[:24]


def charge(order_id: str, order_status: str, total_cents: int, amount_cents: int) -> Payment:
    if order_status != "pending_payment":
        raise Conflict(f"order {order_id} is {order_status}, it cannot be paid", field="order_id")
    if amount_cents != total_cents:
        raise Conflict(f"amount {amount_cents} differs from the order total {total_cents}", field="amount_cents")
    return Payment(order_id, payment_id_for(order_id), amount_cents)


def settle_charge(order_id: str, amount_cents: int) -> Payment:
    """The saga's charge: the orchestrator (order) states the amount of the order it owns."""
    if amount_cents < 1:
        raise Conflict(f"amount {amount_cents} of order {order_id} is not positive", field="amount_cents")
    return Payment(order_id, payment_id_for(order_id), amount_cents)
