"""Each service's own API fuzzed with Schemathesis (issue 19, item 2; fuzzing.py), as its sidecar passes it
requests: in-process on the test database, with no dependency running, so an operation that needs one answers
503, as documented, and is named below."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from fuzzing import fuzz

from miniapp_services.kit.settings import SERVICES
from miniapp_services.registry import spec_for

# Operations that call a dependency the test does not run: their 503 is the documented answer.
DOWN: dict[str, tuple[str, ...]] = {
    "cart": ("PUT /carts/{user_id}/items/{sku}",),  # product: the line's price
    "order": ("POST /orders",),  # product, inventory and pay: the checkout saga
    "pay": ("POST /payments",),  # order: the payment's order
}
CLOSED = "127.0.0.1:1"


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "gateway"])
def test_no_answer_is_a_server_error_or_off_schema(make_client: Callable[..., TestClient], service: str) -> None:
    spec = spec_for(service)
    calls = spec.requires + spec.degrades_without
    down = (*DOWN.get(service, ()), *(("GET /readyz",) if spec.requires else ()))  # not ready without them
    with make_client(service, dependencies=dict.fromkeys(calls, CLOSED)) as client:
        seen = fuzz(client, down=down)
    assert {label for (label, _) in seen} >= {"GET /healthz", "GET /readyz"}, seen
