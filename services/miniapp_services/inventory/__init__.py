"""Inventory: stock per SKU and idempotent reservations per order."""

from pathlib import Path

from miniapp_services.inventory.infrastructure import Base
from miniapp_services.inventory.interface import register_grpc, router
from miniapp_services.kit.app import ServiceSpec

SPEC = ServiceSpec(
    name="inventory",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
)
