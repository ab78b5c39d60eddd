"""Search use cases against the index protocol."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.search.domain import Document, Hit, clean_query


class SearchIndex(Protocol):
    async def put(self, document: Document) -> None: ...
    async def remove(self, sku: str) -> bool: ...
    async def query(self, words: str, category: str | None, limit: int) -> list[Hit]: ...


async def index(repo: SearchIndex, document: Document) -> Document:
    await repo.put(document)
    return document


async def unindex(repo: SearchIndex, sku: str) -> bool:
    return await repo.remove(sku)


async def search(repo: SearchIndex, text: str, category: str | None, limit: int) -> list[Hit]:
    return await repo.query(clean_query(text), category, limit)
