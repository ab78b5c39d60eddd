"""The product catalogue over gRPC: what cart and order price against."""

from __future__ import annotations

import grpc

from miniapp_services.kit.rpc import call
from miniapp_services.proto import product_pb2, product_pb2_grpc


class GrpcCatalogue:
    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub, self.timeout_s = product_pb2_grpc.ProductsStub(channel), timeout_s

    async def price_cents(self, sku: str) -> int:
        product = await call(self.stub.GetProduct, product_pb2.GetProductRequest(sku=sku), self.timeout_s)
        return int(product.price_cents)
