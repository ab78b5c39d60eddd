"""Pay's use case: charge an order once and tell order; a retry finishes what a failed attempt began."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.kit.errors import NotFound
from miniapp_services.pay import domain
from miniapp_services.pay.domain import Payment, PaymentStatus


class PaymentRepository(Protocol):
    async def get(self, order_id: str) -> Payment | None: ...
    async def add(self, payment: Payment) -> bool: ...
    async def set_status(self, order_id: str, status: PaymentStatus) -> None: ...


class OrderView(Protocol):
    order_id: str
    total_cents: int
    status: str


class OrdersPort(Protocol):
    async def get(self, order_id: str) -> OrderView: ...
    async def mark_paid(self, order_id: str, payment_id: str) -> None: ...


async def pay(repo: PaymentRepository, orders: OrdersPort, order_id: str, amount_cents: int) -> tuple[Payment, bool]:
    """The order's payment, charged now if it has none; the flag says whether this call charged it."""
    existing = await repo.get(order_id)
    if existing is not None:
        await orders.mark_paid(order_id, existing.payment_id)
        return existing, False
    order = await orders.get(order_id)
    payment = domain.charge(order_id, order.status, order.total_cents, amount_cents)
    if not await repo.add(payment):
        winner = await repo.get(order_id)
        if winner is None:
            raise NotFound(f"payment of order {order_id} vanished", field="order_id")
        return winner, False
    await orders.mark_paid(order_id, payment.payment_id)
    return payment, True


async def get_payment(repo: PaymentRepository, order_id: str) -> Payment:
    payment = await repo.get(order_id)
    if payment is None:
        raise NotFound(f"no payment for order {order_id!r}", field="order_id")
    return payment


async def saga_charge(repo: PaymentRepository, order_id: str, amount_cents: int) -> tuple[str, Payment | None, str]:
    """The saga's charge step: (outcome, payment, reason). Sent again, it answers the same payment."""
    existing = await repo.get(order_id)
    if existing is None:
        payment = domain.settle_charge(order_id, amount_cents)
        if await repo.add(payment):
            return "charged", payment, ""
        existing = await repo.get(order_id)
    if existing is None:
        raise NotFound(f"payment of order {order_id} vanished", field="order_id")
    if existing.status is PaymentStatus.REFUNDED:
        return "refused", existing, "this order's payment was refunded; place a new order"
    return "charged", existing, ""


async def saga_refund(repo: PaymentRepository, order_id: str) -> Payment | None:
    """The saga's compensation: refund the order's payment (none, or refunded already, is done)."""
    existing = await repo.get(order_id)
    if existing is not None and existing.status is PaymentStatus.SUCCEEDED:
        await repo.set_status(order_id, PaymentStatus.REFUNDED)
    return await repo.get(order_id)
