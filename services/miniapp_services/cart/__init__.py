"""Cart: what a user means to buy, priced live, shown unpriced when the catalogue is down."""

from pathlib import Path

from miniapp_services.cart.infrastructure import Base
from miniapp_services.cart.interface import router
from miniapp_services.kit.app import ServiceSpec

SPEC = ServiceSpec(
    name="cart",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    degrades_without=("product",),
)
