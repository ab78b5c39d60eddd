"""The services' import contracts, made from the one service list (miniapp_services.kit.settings.SERVICES) and
written as import-linter's INI configuration, so that a service added to the list is layered, kept pure and
kept independent without being listed again.

    python -m tools.import_contracts OUT.ini && lint-imports --config OUT.ini
"""

from __future__ import annotations

import sys
from pathlib import Path

from miniapp_services.kit.settings import SERVICES

LAYERS = ("interface", "infrastructure", "application", "domain")
# What the domain and application layers may not know: frameworks, the database, wire formats.
FRAMEWORKS = ("fastapi", "starlette", "sqlalchemy", "asyncpg", "redis", "aiohttp", "grpc", "pydantic")


def contracts(services: tuple[str, ...] = SERVICES) -> dict[str, dict[str, str | list[str]]]:
    """Contract id -> its fields, as import-linter reads them."""
    packages = [f"miniapp_services.{s}" for s in services]
    return {
        "layers": {
            "name": "Each service is layered: interface > infrastructure > application > domain",
            "type": "layers",
            "containers": packages,
            "layers": list(LAYERS),
        },
        "pure": {
            "name": "The domain and application layers know no framework, database or wire format",
            "type": "forbidden",
            "source_modules": [f"{p}.{layer}" for p in packages for layer in ("domain", "application")],
            "forbidden_modules": [*FRAMEWORKS, "miniapp_services.proto"],
        },
        "independent": {
            "name": "Services are independent of each other",
            "type": "independence",
            "modules": packages,
        },
        "kit": {
            "name": "The kit serves every service and knows none of them",
            "type": "forbidden",
            "source_modules": ["miniapp_services.kit"],
            "forbidden_modules": [*packages, "miniapp_services.registry"],
        },
    }


def ini(found: dict[str, dict[str, str | list[str]]]) -> str:
    lines = ["[importlinter]", "root_package = miniapp_services", "include_external_packages = True", ""]
    for key, fields in found.items():
        lines.append(f"[importlinter:contract:{key}]")
        for field, value in fields.items():
            lines += [f"{field} =", *(f"    {v}" for v in value)] if isinstance(value, list) else [f"{field} = {value}"]
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(ini(contracts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
