"""Product's edges: HTTP for the mini-program's pages, gRPC for cart and order."""

from __future__ import annotations

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import connection, on_connection
from miniapp_services.kit.rpc import rpc
from miniapp_services.kit.types import Ident, IdentPath, Text
from miniapp_services.product import application as app_
from miniapp_services.product.domain import PRICE_MAX_CENTS, Product
from miniapp_services.product.infrastructure import SqlProductRepository as Repo
from miniapp_services.proto import product_pb2, product_pb2_grpc


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text = Field(min_length=1, max_length=120)
    price_cents: int = Field(strict=True, ge=1, le=PRICE_MAX_CENTS)
    category: Ident
    on_sale: bool = True


class ProductOut(ProductIn):
    sku: str


def _out(p: Product) -> ProductOut:
    return ProductOut(sku=p.sku, title=p.title, price_cents=p.price_cents, category=p.category, on_sale=p.on_sale)


def router() -> APIRouter:
    api = APIRouter(tags=["product"])

    @api.put("/products/{sku}")
    async def put_product(sku: IdentPath, body: ProductIn, request: Request) -> ProductOut:
        async with connection(request) as conn:
            return _out(await app_.upsert(Repo(conn), Product(sku=sku, **body.model_dump())))

    @api.get("/products/{sku}")
    async def get_product(sku: IdentPath, request: Request) -> ProductOut:
        async with connection(request) as conn:
            product = await app_.get_product(Repo(conn), sku)
        request.app.state.metrics.count("page_view")
        return _out(product)

    @api.get("/products")
    async def browse(
        request: Request,
        category: Annotated[Ident | None, Query()] = None,
        after: Annotated[Ident | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[ProductOut]:
        async with connection(request) as conn:
            products = await app_.browse(Repo(conn), category, limit, after)
        request.app.state.metrics.count("page_view")
        return [_out(p) for p in products]

    return api


def register_grpc(server: grpc.aio.Server, app: FastAPI) -> None:
    traced = rpc(app.state.metrics, app.state.tracer)

    class Servicer(product_pb2_grpc.ProductsServicer):
        @traced
        async def GetProduct(self, request: product_pb2.GetProductRequest, context: Any) -> product_pb2.Product:
            return product_pb2.Product(**vars(await on_connection(app, Repo, app_.get_product, request.sku)))

    product_pb2_grpc.add_ProductsServicer_to_server(Servicer(), server)
