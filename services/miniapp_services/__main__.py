"""`miniapp-service`: the image's entrypoint. The service is picked by MINIAPP_SERVICE.

miniapp-service serve     # HTTP on MINIAPP_HTTP_PORT, gRPC on MINIAPP_GRPC_PORT
miniapp-service migrate   # upgrade this service's schema (the pod's init container)
miniapp-service invariants  # check the order saga's invariants across order, pay and inventory
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn
from pydantic import ValidationError

from miniapp_services import invariants
from miniapp_services.kit.app import create_app
from miniapp_services.kit.db import migrate
from miniapp_services.kit.logs import configure_logging
from miniapp_services.kit.settings import get_settings
from miniapp_services.registry import spec_for


class _Server(uvicorn.Server):
    """uvicorn's server with its housekeeping tick once a second rather than ten times: the tick refreshes
    the Date header (once a second anyway) and checks for shutdown, and eighteen idle processes share two
    cores. A SIGTERM still stops it within a second."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # on_tick's once-a-second work runs when counter % 10 == 0
            await asyncio.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="miniapp-service", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["serve", "migrate", "invariants"])
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as err:
        print(f"miniapp-service: bad settings:\n{err}", file=sys.stderr)
        return 2
    if args.command == "invariants":
        return invariants.report(settings.database_url.get_secret_value())
    configure_logging(settings.service, settings.version, settings.log_level)
    spec = spec_for(settings.service)
    if args.command == "migrate":
        migrate(settings.database_url.get_secret_value(), spec.metadata, spec.migrations)
        return 0
    app = create_app(spec, settings)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # uvloop and httptools: half the server CPU per request of asyncio + h11 on these machines.
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        timeout_keep_alive=settings.http_keep_alive_s,
    )
    _Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
