"""Order: places priced orders with stock reserved, and records their payment."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.order.infrastructure import Base
from miniapp_services.order.interface import register_grpc, router

SPEC = ServiceSpec(
    name="order",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
    requires=("product", "inventory"),
)
