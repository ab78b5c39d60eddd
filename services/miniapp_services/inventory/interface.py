"""Inventory's edges: HTTP for operators and the load suite, gRPC for order and seckill."""

from __future__ import annotations

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, FastAPI, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.inventory import application as app_
from miniapp_services.inventory.domain import Reservation, State, Stock
from miniapp_services.inventory.infrastructure import SqlInventoryRepository as Repo
from miniapp_services.kit.app import connection, in_transaction, on_connection, transaction
from miniapp_services.kit.rpc import rpc
from miniapp_services.kit.types import Ident, IdentPath
from miniapp_services.proto import inventory_pb2, inventory_pb2_grpc

ActionPath = Annotated[str, Path(pattern=r"^(release|commit)$", description="release or commit")]


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    available: int = Field(strict=True, ge=0, le=1_000_000_000)


class StockOut(BaseModel):
    sku: str
    available: int
    reserved: int
    committed: int


class ReserveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Ident
    sku: Ident
    quantity: int = Field(strict=True, ge=1, le=1000)


class ReservationOut(BaseModel):
    order_id: str
    sku: str
    quantity: int
    state: State


def _stock_out(stock: Stock) -> StockOut:
    return StockOut(sku=stock.sku, available=stock.available, reserved=stock.reserved, committed=stock.committed)


def _reservation_out(r: Reservation) -> ReservationOut:
    return ReservationOut(order_id=r.order_id, sku=r.sku, quantity=r.quantity, state=r.state)


def router() -> APIRouter:
    api = APIRouter(tags=["inventory"])

    @api.get("/stock/{sku}")
    async def get_stock(sku: IdentPath, request: Request) -> StockOut:
        async with connection(request) as conn:
            return _stock_out(await app_.get_stock(Repo(conn), sku))

    @api.put("/stock/{sku}")
    async def put_stock(sku: IdentPath, body: StockIn, request: Request) -> StockOut:
        async with transaction(request) as conn:
            return _stock_out(await app_.set_available(Repo(conn), sku, body.available))

    @api.post("/reservations", status_code=status.HTTP_201_CREATED)
    async def reserve(body: ReserveIn, request: Request) -> ReservationOut:
        async with transaction(request) as conn:
            repo = Repo(conn)
            return _reservation_out(await app_.reserve(repo, body.order_id, body.sku, body.quantity))

    @api.post("/reservations/{order_id}/{action}")
    async def settle(order_id: IdentPath, action: ActionPath, request: Request) -> list[ReservationOut]:
        to = State.RELEASED if action == "release" else State.COMMITTED
        async with transaction(request) as conn:
            return [_reservation_out(r) for r in await app_.settle(Repo(conn), order_id, to)]

    return api


def _pb(r: Reservation) -> inventory_pb2.Reservation:
    return inventory_pb2.Reservation(order_id=r.order_id, sku=r.sku, quantity=r.quantity, state=r.state.value)


def register_grpc(server: grpc.aio.Server, app: FastAPI) -> None:
    traced = rpc(app.state.metrics, app.state.tracer)

    class Servicer(inventory_pb2_grpc.InventoryServicer):
        @traced
        async def Reserve(  # gRPC method names are the proto's
            self, request: inventory_pb2.ReserveRequest, context: Any
        ) -> inventory_pb2.Reservation:
            checked = ReserveIn(order_id=request.order_id, sku=request.sku, quantity=request.quantity)
            return _pb(await in_transaction(app, Repo, app_.reserve, checked.order_id, checked.sku, checked.quantity))

        @traced
        async def Release(self, request: inventory_pb2.ReservationRef, context: Any) -> inventory_pb2.Reservations:
            settled = await in_transaction(app, Repo, app_.settle, request.order_id, State.RELEASED)
            return inventory_pb2.Reservations(items=[_pb(r) for r in settled])

        @traced
        async def Commit(self, request: inventory_pb2.ReservationRef, context: Any) -> inventory_pb2.Reservations:
            settled = await in_transaction(app, Repo, app_.settle, request.order_id, State.COMMITTED)
            return inventory_pb2.Reservations(items=[_pb(r) for r in settled])

        @traced
        async def GetStock(self, request: inventory_pb2.GetStockRequest, context: Any) -> inventory_pb2.Stock:
            return inventory_pb2.Stock(**vars(await on_connection(app, Repo, app_.get_stock, request.sku)))

    inventory_pb2_grpc.add_InventoryServicer_to_server(Servicer(), server)
