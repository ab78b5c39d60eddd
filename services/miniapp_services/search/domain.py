"""Search: a full-text index of the catalogue's titles, its own copy kept by the catalogue's updates."""

from __future__ import annotations

from dataclasses import dataclass

from miniapp_services.kit.errors import DomainError

QUERY_MAX = 64


@dataclass(frozen=True)
class Document:
    sku: str
    title: str
    category: str


@dataclass(frozen=True)
class Hit:
    sku: str
    title: str
    category: str
    rank: float


def clean_query(text: str) -> str:
    """The query words, trimmed; an empty query is refused rather than matching everything."""
    words = " ".join(text.split())
    if not words:
        raise DomainError("q must contain a word", field="q")
    return words[:QUERY_MAX]
