"""Order use cases, against the repository and the two remote ports (catalogue prices, stock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from miniapp_services.kit.errors import Conflict, NotFound, Unavailable
from miniapp_services.order import domain
from miniapp_services.order.domain import Line, Order, Owned


class OrderRepository(Protocol):
    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...
    async def save(self, order: Order) -> None: ...
    async def in_saga(self) -> list[Owned]: ...
    async def past_deadline(self, now: datetime, limit: int) -> list[Owned]: ...


class Catalogue(Protocol):
    async def price_cents(self, sku: str) -> int: ...


class StockPort(Protocol):
    async def reserve(self, order_id: str, sku: str, quantity: int) -> None: ...
    async def release(self, order_id: str) -> None: ...
    async def commit(self, order_id: str) -> None: ...


async def place(
    repo: OrderRepository,
    catalogue: Catalogue,
    stock: StockPort,
    order_id: str,
    user_id: int,
    wanted: dict[str, int],
    placed_at: datetime,
    deadline: timedelta | None = None,
) -> tuple[Order, bool]:
    """Price and reserve an order, to be paid within deadline of placed_at (None: no deadline); a retry with
    the same order_id returns it (the flag: newly placed)."""
    existing = await repo.get(order_id)
    if existing is not None:
        if not domain.same_request(existing, user_id, wanted):
            raise Conflict(f"order id {order_id} is taken by a different order", field="order_id")
        return existing, False
    lines = tuple([Line(sku, qty, await catalogue.price_cents(sku)) for sku, qty in sorted(wanted.items())])
    order = domain.new_order(order_id, user_id, lines, placed_at, deadline)
    try:
        for line in order.lines:
            await stock.reserve(order_id, line.sku, line.quantity)
    except Exception:
        await _release_quietly(stock, order_id)
        raise
    await repo.save(order)
    return order, True


async def _release_quietly(stock: StockPort, order_id: str) -> None:
    """Compensate the reservations made before a failure; none made is not an error."""
    try:
        await stock.release(order_id)
    except NotFound:
        return


async def get_order(repo: OrderRepository, order_id: str) -> Order:
    order = await repo.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return order


async def mark_paid(repo: OrderRepository, stock: StockPort, order_id: str, payment_id: str) -> tuple[Order, bool]:
    """Record the payment and commit the reserved stock; the flag says whether it was newly paid."""
    order = await repo.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    paid = domain.pay(order, payment_id)
    if paid is order:
        return order, False
    await stock.commit(order_id)
    await repo.save(paid)
    return paid, True


async def cancel(repo: OrderRepository, stock: StockPort, order_id: str) -> Order:
    order = await repo.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    cancelled = domain.cancel(order)
    if cancelled is not order:
        await stock.release(order_id)
        await repo.save(cancelled)
    return cancelled


async def expire(repo: OrderRepository, stock: StockPort, order_id: str, now: datetime) -> bool:
    """Cancel the order if it is still unpaid past its deadline and release its stock (the release repeats
    harmlessly when a crash came between it and the save); whether this call expired it."""
    order = await repo.get(order_id, for_update=True)
    if order is None:
        return False
    expired = domain.expire(order, now)
    if expired is order:
        return False
    await _release_quietly(stock, order_id)
    await repo.save(expired)
    return True


class PaymentsPort(Protocol):
    """Pay's side of the saga, over one bidirectional stream: each step answered in order."""

    async def charge(self, order_id: str, amount_cents: int) -> tuple[str, str, str]: ...
    async def refund(self, order_id: str) -> str: ...


# Runs a use case in its own transaction (kit.app.in_transaction bound to the app and repository).
Tx = Callable[..., Awaitable[Any]]


async def _transition(repo: OrderRepository, order_id: str, step: Callable[[Order], Order]) -> Order:
    order = await repo.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    moved = step(order)
    if moved is not order:
        await repo.save(moved)
    return moved


async def begin_charge(repo: OrderRepository, order_id: str) -> Order:
    return await _transition(repo, order_id, domain.begin_charge)


async def begin_compensation(repo: OrderRepository, order_id: str) -> Order:
    return await _transition(repo, order_id, domain.begin_compensation)


async def compensated(repo: OrderRepository, stock: StockPort, order_id: str) -> Order:
    """Release the order's stock and cancel it; a failed release leaves it COMPENSATING for recovery."""
    await _release_quietly(stock, order_id)
    return await _transition(repo, order_id, domain.cancel)


async def checkout(tx: Tx, stock: StockPort, payments: PaymentsPort, order_id: str) -> tuple[Order, bool]:
    """The saga after create and reserve: charge (pay, on the stream), then confirm (commit stock, paid); a
    refused charge releases the stock and cancels, a failed confirm refunds, releases and cancels. Each state
    is recorded before its remote step; resuming an interrupted checkout repeats steps, never their effect.
    The flag says whether this call paid the order."""
    order = await tx(begin_charge, order_id)
    if order.status is domain.Status.PAID:
        return order, False
    if order.status is domain.Status.CHARGING:
        outcome, payment_id, _reason = await payments.charge(order_id, order.total_cents)
        if outcome == "charged":
            try:
                paid: tuple[Order, bool] = await tx(mark_paid, stock, order_id, payment_id)
                return paid
            except Unavailable:
                await tx(begin_compensation, order_id)
        else:
            await tx(begin_compensation, order_id)
    await payments.refund(order_id)
    return await tx(compensated, stock, order_id), False
