"""User: mini-program users, one per openid, registered on first login."""

from pathlib import Path

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.user.infrastructure import Base
from miniapp_services.user.interface import register_grpc, router

SPEC = ServiceSpec(
    name="user",
    summary=__doc__.splitlines()[0],
    router=router,
    metadata=Base.metadata,
    migrations=Path(__file__).with_name("migrations"),
    grpc=register_grpc,
)
