"""Product: the catalogue, browsed by category and priced for cart and order."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.product.infrastructure import Base
from miniapp_services.product.interface import register_grpc, router

SPEC = ServiceSpec(
    name="product",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
)
