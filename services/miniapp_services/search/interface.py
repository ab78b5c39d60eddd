"""Search's edge: HTTP for the mini-program's search box and for the catalogue's index updates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import connection
from miniapp_services.kit.errors import NotFound
from miniapp_services.kit.types import Ident, IdentPath, Text
from miniapp_services.search import application as app_
from miniapp_services.search.domain import QUERY_MAX, Document
from miniapp_services.search.infrastructure import SqlSearchIndex as Repo


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text = Field(min_length=1, max_length=120)
    category: Ident


class HitOut(BaseModel):
    sku: str
    title: str
    category: str
    rank: float


def router() -> APIRouter:
    api = APIRouter(tags=["search"])

    @api.put("/documents/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def put(sku: IdentPath, body: DocumentIn, request: Request) -> None:
        async with connection(request) as conn:
            await app_.index(Repo(conn), Document(sku=sku, title=body.title, category=body.category))

    @api.delete("/documents/{sku}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove(sku: IdentPath, request: Request) -> None:
        async with connection(request) as conn:
            if not await app_.unindex(Repo(conn), sku):
                raise NotFound(f"no document for sku {sku!r}", field="sku")

    @api.get("/search")
    async def search(
        request: Request,
        q: Annotated[Text, Query(min_length=1, max_length=QUERY_MAX * 2)],
        category: Annotated[Ident | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[HitOut]:
        async with connection(request) as conn:
            hits = await app_.search(Repo(conn), q, category, limit)
        request.app.state.metrics.count("page_view")
        return [HitOut(**vars(h)) for h in hits]

    return api
