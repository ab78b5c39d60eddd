"""Product use cases against the repository protocol."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.kit.errors import NotFound
from miniapp_services.product.domain import Product, priced


class ProductRepository(Protocol):
    async def get(self, sku: str) -> Product | None: ...
    async def save(self, product: Product) -> None: ...
    async def list(self, category: str | None, limit: int, after: str | None) -> list[Product]: ...


async def upsert(repo: ProductRepository, product: Product) -> Product:
    await repo.save(priced(product))
    return product


async def get_product(repo: ProductRepository, sku: str) -> Product:
    product = await repo.get(sku)
    if product is None:
        raise NotFound(f"no product with sku {sku!r}", field="sku")
    return product


async def browse(repo: ProductRepository, category: str | None, limit: int, after: str | None) -> list[Product]:
    """Products on sale, ordered by sku, one page after the given sku (keyset paging)."""
    return await repo.list(category, limit, after)
