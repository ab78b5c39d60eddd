"""Inventory's use cases, written against the repository protocol (no database here)."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.inventory import domain
from miniapp_services.inventory.domain import Reservation, State, Stock
from miniapp_services.kit.errors import Conflict, NotFound


class InventoryRepository(Protocol):
    async def stock(self, sku: str, *, for_update: bool = False) -> Stock | None: ...
    async def save_stock(self, stock: Stock) -> None: ...
    async def reservation(self, order_id: str, sku: str) -> Reservation | None: ...
    async def reservations(self, order_id: str) -> list[Reservation]: ...
    async def save_reservation(self, reservation: Reservation) -> None: ...


async def get_stock(repo: InventoryRepository, sku: str) -> Stock:
    stock = await repo.stock(sku)
    if stock is None:
        raise NotFound(f"no stock record for sku {sku!r}", field="sku")
    return stock


async def set_available(repo: InventoryRepository, sku: str, available: int) -> Stock:
    stock = await repo.stock(sku, for_update=True) or Stock(sku=sku, available=0)
    stock = domain.restock(stock, available)
    await repo.save_stock(stock)
    return stock


async def reserve(repo: InventoryRepository, order_id: str, sku: str, quantity: int) -> Reservation:
    """Reserve stock for an order's line; a retry of the same line returns the first reservation."""
    existing = await repo.reservation(order_id, sku)
    if existing is not None:
        if existing.quantity != quantity:
            raise Conflict(f"order {order_id} already reserved {existing.quantity} of {sku}", field="quantity")
        return existing
    stock = await repo.stock(sku, for_update=True)
    if stock is None:
        raise NotFound(f"no stock record for sku {sku!r}", field="sku")
    stock, reservation = domain.reserve(stock, order_id, quantity)
    await repo.save_stock(stock)
    await repo.save_reservation(reservation)
    return reservation


async def settle(repo: InventoryRepository, order_id: str, to: State) -> list[Reservation]:
    """Release or commit every reservation of an order (repeating a settlement changes nothing)."""
    reservations = await repo.reservations(order_id)
    if not reservations:
        raise NotFound(f"no reservation for order {order_id!r}", field="order_id")
    settled = []
    for reservation in reservations:
        stock = await repo.stock(reservation.sku, for_update=True)
        if stock is None:
            raise NotFound(f"stock record of sku {reservation.sku!r} is gone", field="sku")
        stock, done = domain.settle(stock, reservation, to)
        await repo.save_stock(stock)
        await repo.save_reservation(done)
        settled.append(done)
    return settled
