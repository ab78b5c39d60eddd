"""Inventory over gRPC: a real grpc.aio server on port 0, started by the app's lifespan."""

from collections.abc import Callable, Iterator

import grpc
import pytest
from conftest import GRPC_AS_A
from fastapi.testclient import TestClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from miniapp_services.proto import inventory_pb2 as pb
from miniapp_services.proto import inventory_pb2_grpc

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def served(make_client: Callable[..., TestClient]) -> Iterator[tuple[TestClient, grpc.Channel]]:
    with (
        make_client("inventory") as client,
        grpc.insecure_channel(f"127.0.0.1:{client.app.state.grpc_port}") as channel,
    ):
        yield client, channel


def test_health_service_says_serving(served: tuple[TestClient, grpc.Channel]) -> None:
    reply = health_pb2_grpc.HealthStub(served[1]).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reserve_commit_and_stock(served: tuple[TestClient, grpc.Channel]) -> None:
    client, channel = served
    client.put("/stock/SKU-RPC-1", json={"available": 10})
    stub = inventory_pb2_grpc.InventoryStub(channel)
    meta = (("traceparent", TRACEPARENT), ("x-release-tag", "canary"), *GRPC_AS_A)
    reserved = stub.Reserve(
        pb.ReserveRequest(order_id="ord-rpc-1", sku="SKU-RPC-1", quantity=4), metadata=meta, timeout=2
    )
    assert (reserved.state, reserved.quantity) == ("reserved", 4)
    assert [
        r.state for r in stub.Commit(pb.ReservationRef(order_id="ord-rpc-1"), metadata=GRPC_AS_A, timeout=2).items
    ] == ["committed"]
    stock = stub.GetStock(pb.GetStockRequest(sku="SKU-RPC-1"), metadata=GRPC_AS_A, timeout=2)
    assert (stock.available, stock.reserved, stock.committed) == (6, 0, 4)
    assert 'miniapp_grpc_requests_total{code="OK",method="Reserve"' in client.get("/metrics").text


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        (
            pb.ReserveRequest(order_id="o-rpc-2", sku="SKU-RPC-1", quantity=0),
            grpc.StatusCode.INVALID_ARGUMENT,
            "quantity",
        ),
        (pb.ReserveRequest(order_id="", sku="SKU-RPC-1", quantity=1), grpc.StatusCode.INVALID_ARGUMENT, "order_id"),
        (pb.ReserveRequest(order_id="o-rpc-3", sku="NOPE", quantity=1), grpc.StatusCode.NOT_FOUND, "sku"),
        (
            pb.ReserveRequest(order_id="o-rpc-4", sku="SKU-RPC-1", quantity=999),
            grpc.StatusCode.FAILED_PRECONDITION,
            "available",
        ),
    ],
)
def test_bad_reserve_gets_a_status_naming_the_field(
    served: tuple[TestClient, grpc.Channel], request_: pb.ReserveRequest, code: grpc.StatusCode, words: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        inventory_pb2_grpc.InventoryStub(served[1]).Reserve(request_, metadata=GRPC_AS_A, timeout=2)
    assert err.value.code() == code
    assert words in err.value.details()
