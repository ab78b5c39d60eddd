"""The product catalogue: what cart and order price against."""

from __future__ import annotations

from dataclasses import dataclass

from miniapp_services.kit.errors import DomainError

PRICE_MAX_CENTS = 10_000_000


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price_cents: int
    category: str
    on_sale: bool = True


def priced(product: Product) -> Product:
    """The product if its price is sellable: a positive amount under the catalogue's ceiling."""
    if not 0 < product.price_cents <= PRICE_MAX_CENTS:
        raise DomainError(f"price_cents must be 1 to {PRICE_MAX_CENTS}", field="price_cents")
    return product
