"""Order: places priced orders with stock reserved, and runs their checkout saga with pay."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.order.infrastructure import Base
from miniapp_services.order.interface import background, register_grpc, router

SPEC = ServiceSpec(
    name="order",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
    requires=("product", "inventory"),
    # Checkout needs pay; placing orders does not, so order stays ready without it.
    degrades_without=("pay",),
    background=background,
)
