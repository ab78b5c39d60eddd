"""Notify: subscription messages accepted at once and delivered asynchronously from an outbox."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.notify.infrastructure import Base
from miniapp_services.notify.interface import router, sender

SPEC = ServiceSpec(
    name="notify",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    background=sender,
)
