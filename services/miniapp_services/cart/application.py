"""Cart use cases; showing a cart degrades to unpriced lines when the catalogue is unavailable."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.cart import domain
from miniapp_services.cart.domain import Item, PricedItem
from miniapp_services.kit.errors import Unavailable


class CartRepository(Protocol):
    async def items(self, user_id: int) -> list[Item]: ...
    async def put(self, user_id: int, item: Item) -> None: ...
    async def remove(self, user_id: int, sku: str) -> None: ...
    async def clear(self, user_id: int) -> None: ...


class Catalogue(Protocol):
    async def price_cents(self, sku: str) -> int: ...


async def set_quantity(repo: CartRepository, catalogue: Catalogue, user_id: int, sku: str, quantity: int) -> None:
    """Set a line's quantity (0 removes it); only skus the catalogue knows may be added."""
    if quantity == 0:
        await repo.remove(user_id, sku)
        return
    domain.check_room({item.sku for item in await repo.items(user_id)}, sku)
    await catalogue.price_cents(sku)
    await repo.put(user_id, Item(sku, quantity))


async def show(repo: CartRepository, catalogue: Catalogue, user_id: int) -> tuple[list[PricedItem], bool]:
    """The cart priced now; the flag is True when prices are missing because the catalogue is down."""
    priced, degraded = [], False
    for item in await repo.items(user_id):
        price: int | None = None
        if not degraded:
            try:
                price = await catalogue.price_cents(item.sku)
            except Unavailable:
                degraded = True
        priced.append(PricedItem(item.sku, item.quantity, price))
    return priced, degraded


async def clear(repo: CartRepository, user_id: int) -> None:
    await repo.clear(user_id)
