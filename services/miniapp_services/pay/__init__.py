"""Pay: charges an order exactly once and reports the payment to order."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.pay.infrastructure import Base
from miniapp_services.pay.interface import register_grpc, router

SPEC = ServiceSpec(
    name="pay",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
    requires=("order",),
)
