"""Schemathesis over a service's whole OpenAPI (issue 19, item 2), shared by the gateway's fuzz and the
services' own: every documented operation, EXAMPLES requests in each of Schemathesis's modes (data the schema
allows, and data it refuses, which must be answered 4xx), every answer checked against the schema (status,
content type, headers, body) and none a 5xx, but a 503 where the caller says an upstream is down. Draws are
derandomized, so a run sends the same requests each time."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection

import httpx
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation

EXAMPLES = 25  # per operation and mode


def fuzz(client: TestClient, auth: httpx.Auth | None = None, down: Collection[str] = ()) -> Counter[tuple[str, int]]:
    """The statuses each operation answered (by label, e.g. "GET /api/cart")."""
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert set(down) <= {o.label for o in operations}, [o.label for o in operations]
    seen: Counter[tuple[str, int]] = Counter()
    for operation, mode in itertools.product(operations, GenerationMode):
        # Without a parameter or a body there is nothing to make invalid.
        if mode is GenerationMode.POSITIVE or any(operation.iter_parameters()) or operation.body:
            _examples(client, auth, operation, mode, operation.label in down, seen)
    return seen


def _examples(
    client: TestClient,
    auth: httpx.Auth | None,
    operation: APIOperation,
    mode: GenerationMode,
    down: bool,
    seen: Counter[tuple[str, int]],
) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def one(case: schemathesis.Case) -> None:
        sent = {k: v for k, v in case.as_transport_kwargs().items() if k != "cookies"}  # the services read none
        reply = client.request(**sent, auth=auth)
        seen[(operation.label, reply.status_code)] += 1
        assert reply.status_code < 500 or (down and reply.status_code == 503), f"{operation.label}: {reply.text}"
        # A rule the schema cannot state (an event that ends before it starts, an unknown template) is refused
        # 400 naming the field: schema-valid data may be refused, never answered 5xx or off its schema.
        excluded = [positive_data_acceptance, *([not_a_server_error] if down else [])]
        case.validate_response(reply, excluded_checks=excluded)

    one()
