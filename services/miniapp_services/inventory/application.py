"""Inventory's use cases, written against the repository protocol (no database here)."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.inventory import domain
from miniapp_services.inventory.domain import Reservation, State, Stock
from miniapp_services.kit.errors import Conflict, NotFound


class InventoryRepository(Protocol):
    async def stock(self, sku: str, *, for_update: bool = False) -> Stock | None: ...
    async def save_stock(self, stock: Stock) -> None: ...
    async def reservation(self, order_id: str) -> Reservation | None: ...
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
    """Reserve stock for an order; a retry with the same order returns the first reservation."""
    existing = await repo.reservation(order_id)
    if existing is not None:
        if (existing.sku, existing.quantity) != (sku, quantity):
            raise Conflict(f"order {order_id} already reserved {existing.quantity} of {existing.sku}", field="order_id")
        return existing
    stock = await repo.stock(sku, for_update=True)
    if stock is None:
        raise NotFound(f"no stock record for sku {sku!r}", field="sku")
    stock, reservation = domain.reserve(stock, order_id, quantity)
    await repo.save_stock(stock)
    await repo.save_reservation(reservation)
    return reservation


async def settle(repo: InventoryRepository, order_id: str, to: State) -> Reservation:
    reservation = await repo.reservation(order_id)
    if reservation is None:
        raise NotFound(f"no reservation for order {order_id!r}", field="order_id")
    stock = await repo.stock(reservation.sku, for_update=True)
    if stock is None:
        raise NotFound(f"stock record of sku {reservation.sku!r} is gone", field="sku")
    stock, reservation = domain.settle(stock, reservation, to)
    await repo.save_stock(stock)
    await repo.save_reservation(reservation)
    return reservation
