"""Which module implements which service; imported on demand so a process loads only its own service."""

from __future__ import annotations

import importlib

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.kit.settings import SERVICES


def spec_for(service: str) -> ServiceSpec:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of: {', '.join(SERVICES)}")
    spec: ServiceSpec = importlib.import_module(f"miniapp_services.{service}").SPEC
    return spec
