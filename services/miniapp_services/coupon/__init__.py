"""Coupon: limited coupons given out one per user and spent once on an order."""

from pathlib import Path

from miniapp_services.coupon.infrastructure import Base
from miniapp_services.coupon.interface import router
from miniapp_services.kit.app import ServiceSpec

SPEC = ServiceSpec(
    name="coupon",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
)
