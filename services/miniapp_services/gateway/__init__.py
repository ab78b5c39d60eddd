"""Gateway: the mini-program's backend-for-frontend: login, signed requests, and one API over the services."""

from pathlib import Path

from miniapp_services.gateway.infrastructure import Base
from miniapp_services.gateway.interface import UPSTREAMS, background, load_tenants, router
from miniapp_services.kit.app import ServiceSpec

SPEC = ServiceSpec(
    name="gateway",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    upstreams=UPSTREAMS,
    background=background,
    startup=load_tenants,
    tenant_from_session=True,
)
