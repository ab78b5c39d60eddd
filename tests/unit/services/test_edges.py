"""What every service's edge accepts: an integer a request body carries is a JSON integer, never a boolean that
Python would count as one (the stateful fuzz found `{"user_id": true}` checked in as user 1)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fuzzing import alone
from pydantic import BaseModel

from miniapp_services.kit.app import create_app
from miniapp_services.kit.settings import SERVICES, get_settings
from miniapp_services.registry import spec_for


def _lax_integers(model: type[BaseModel], path: str) -> Iterator[str]:
    """The fields of the model, and of the models it holds, typed int without strict validation."""
    for name, info in model.model_fields.items():
        for kind in _kinds(info.annotation):
            if kind is int and not any(getattr(m, "strict", False) for m in info.metadata):
                yield f"{path}.{name}"
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _lax_integers(kind, f"{path}.{name}")


def _kinds(annotation: object) -> Iterator[object]:
    """The types an annotation admits: through Optional, unions, lists and dicts."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple, dict, set, frozenset):
        for arg in args:
            yield from _kinds(arg)
    else:
        yield annotation


def _models() -> Iterator[type[BaseModel]]:
    """Every pydantic model the services define."""
    found = list(BaseModel.__subclasses__())
    while found:
        model = found.pop()
        found.extend(model.__subclasses__())
        if model.__module__.startswith("miniapp_services."):
            yield model


def _bodies(openapi: dict[str, Any]) -> set[str]:
    """The names of the schemas the operations take as JSON request bodies."""
    refs = {op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            for path in openapi["paths"].values() for op in path.values()}  # fmt: skip
    return {ref.rsplit("/", 1)[1] for ref in refs if ref}


@pytest.mark.parametrize("service", SERVICES)
def test_every_integer_in_a_request_body_is_strict(service: str, tenants_file: Path) -> None:
    spec = spec_for(service)
    deps, _ = alone(service)
    # Built, never started: nothing is read from or sent to these.
    extra: dict[str, object] = {}
    if service == "gateway":
        extra = {"tenants_file": tenants_file, "stores": {"nonces": "redis://127.0.0.1:1/0"},
                 "upstreams": dict.fromkeys(spec.upstreams, "http://127.0.0.1:1")}  # fmt: skip
    app = create_app(spec, get_settings(service=service, database_url="postgresql+asyncpg://x@127.0.0.1:1/x",
                                        grpc_port=0, dependencies=deps, **extra))  # fmt: skip
    names = _bodies(app.openapi())
    bodies = [m for m in _models() if m.__name__ in names]
    assert {m.__name__ for m in bodies} == names
    lax = [field for body in bodies for field in _lax_integers(body, f"{body.__module__}.{body.__name__}")]
    assert lax == [], f"make these strict (Field(strict=True) or kit.types): {lax}"


def test_a_boolean_user_is_refused_by_name(make_client: Callable[..., TestClient]) -> None:
    with make_client("checkin") as client:
        reply = client.post("/checkins", json={"user_id": True})
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"][0]["loc"] == ["body", "user_id"]
