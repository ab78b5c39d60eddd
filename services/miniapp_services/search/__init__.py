"""Search: full-text search over the catalogue's titles."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.search.infrastructure import Base
from miniapp_services.search.interface import router

SPEC = ServiceSpec(
    name="search",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
)
