"""Seckill: flash sales with a limited stock, one unit per user, while the sale is open."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.seckill.infrastructure import Base
from miniapp_services.seckill.interface import router

SPEC = ServiceSpec(
    name="seckill",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
)
