"""Which module implements which service; imported on demand so a process loads only its own service."""

from __future__ import annotations

import importlib

from miniapp_services.kit.app import ServiceSpec
from miniapp_services.kit.settings import SERVICES

IMPLEMENTED = (
    "user",
    "product",
    "inventory",
    "cart",
    "order",
    "pay",
    "coupon",
    "checkin",
    "seckill",
    "notify",
    "search",
)


def spec_for(service: str) -> ServiceSpec:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of: {', '.join(SERVICES)}")
    if service not in IMPLEMENTED:
        raise NotImplementedError(f"service {service!r} is not implemented yet; implemented: {', '.join(IMPLEMENTED)}")
    return importlib.import_module(f"miniapp_services.{service}").SPEC
