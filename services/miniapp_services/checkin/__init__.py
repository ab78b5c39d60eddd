"""Check-in: the daily sign-in with streaks and points (the 8am peak)."""

from pathlib import Path

from miniapp_services.checkin.infrastructure import Base
from miniapp_services.checkin.interface import router
from miniapp_services.kit.app import ServiceSpec

SPEC = ServiceSpec(
    name="checkin",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
)
