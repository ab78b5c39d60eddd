"""Schemathesis over a service's whole OpenAPI (issue 19, item 2), shared by the gateway's fuzz and the
services' own: every documented operation, EXAMPLES requests in each of Schemathesis's modes (data the schema
allows, and data it refuses, which must be answered 4xx), every answer checked against the schema (status,
content type, headers, body) and none a 5xx, but a 503 where the caller says an upstream is down; then
SCENARIOS stateful sequences of up to STEPS calls chained by the links Schemathesis infers. Draws are
derandomized, so a run sends the same requests each time."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.hooks import HookContext
from schemathesis.schemas import APIOperation

from miniapp_services.registry import spec_for

EXAMPLES = 25  # per operation and mode
# Operations of a service that call a dependency the tests do not run: their 503 is the documented answer.
DEPENDENT: dict[str, tuple[str, ...]] = {
    "cart": ("PUT /carts/{user_id}/items/{sku}",),  # product: the line's price
    # product, inventory and pay: the checkout saga; an existing order's checkout (pay) and cancel (inventory's
    # release), met when the database holds an order the fuzz happens to name
    "order": ("POST /orders", "POST /orders/{order_id}/checkout", "POST /orders/{order_id}/cancel"),
    "pay": ("POST /payments",),  # order: the payment's order
}
CLOSED = "127.0.0.1:1"


def alone(service: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """A service on its own: every dependency it calls at a closed port, and the operations that then answer 503
    (with its readiness, when it requires one)."""
    spec = spec_for(service)
    down = (*DEPENDENT.get(service, ()), *(("GET /readyz",) if spec.requires else ()))
    return dict.fromkeys(spec.requires + spec.degrades_without, CLOSED), down


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
        reply = _send(client, case, auth)
        seen[(operation.label, reply.status_code)] += 1
        _judge(case, reply, down)

    one()


def _send(client: TestClient, case: schemathesis.Case, auth: httpx.Auth | None) -> httpx.Response:
    sent = {k: v for k, v in case.as_transport_kwargs().items() if k != "cookies"}  # the services read none
    return client.request(**sent, auth=auth)


def _judge(case: schemathesis.Case, reply: httpx.Response | Response, down: bool) -> None:
    """No 5xx (but a 503 where an upstream is down) and an answer on its schema. A rule the schema cannot state (an
    event that ends before it starts, an unknown template) is refused 400 naming the field: schema-valid data may
    be refused, never answered 5xx or off its schema."""
    assert reply.status_code < 500 or (down and reply.status_code == 503), f"{case.operation.label}: {reply.text}"
    excluded = [positive_data_acceptance, *([not_a_server_error] if down else [])]
    case.validate_response(reply, excluded_checks=excluded)


SCENARIOS = 40  # stateful: sequences per service, each up to STEPS calls
STEPS = 6


@dataclass
class Sequences:
    """What a stateful run did: every call's status by operation, and those of the calls a link fed by
    "source -> target"."""

    called: Counter[tuple[str, int]] = field(default_factory=Counter)
    followed: Counter[tuple[str, int]] = field(default_factory=Counter)


def stateful(
    client: TestClient,
    reset: Callable[[], None],
    auth: httpx.Auth | None = None,
    down: Collection[str] = (),
    bodies: Callable[[str, Any], Any] | None = None,
    scenarios: int = SCENARIOS,
) -> Sequences:
    """Schemathesis's stateful phase: sequences of calls chained by the links it infers from the schema (the sku a
    PUT created read back by a GET, ...), each answer checked as `fuzz` checks it. Each sequence starts from the
    state `reset` leaves (the service's tables emptied), so a replayed sequence meets the same answers, as
    Hypothesis requires. bodies(operation label, body), when given, maps each body generated to fit the schema
    to one that names data the test made (Schemathesis's map_case hook), so that a link's source can succeed.
    The number of sequences is `scenarios`."""
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    if bodies is not None:

        @schema.hook("map_case")
        def _realistic(_context: HookContext, case: schemathesis.Case) -> schemathesis.Case:
            # A body drawn to break the schema stays as drawn: the check expects it refused.
            if case.meta is None or not case.meta.is_negative_at(ParameterLocation.BODY):
                case.body = bodies(case.operation.label, case.body)
            return case

    seen = Sequences()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            reset()

        def call(self, case: schemathesis.Case, **kwargs: object) -> Response:
            return Response.from_any(_send(client, case, auth))

        def step(self, input: StepInput) -> StepOutput:
            output = super().step(input)
            status = output.response.status_code
            seen.called[(input.case.operation.label, status)] += 1
            if input.transition is not None and input.is_applied:
                seen.followed[(f"{input.transition.id} -> {input.case.operation.label}", status)] += 1
            return output

        def validate_response(self, response: Response, case: schemathesis.Case, **kwargs: object) -> None:
            _judge(case, response, case.operation.label in down)

    Machine.run(
        settings=settings(
            max_examples=scenarios,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    return seen
