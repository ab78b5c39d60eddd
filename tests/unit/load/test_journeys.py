"""Journeys as generators: the steps each takes, and how replies steer them."""

import random

import pytest

from load import traffic
from load.journeys import JOURNEYS, Catalogue, Reply, Visit

CATALOGUE = Catalogue(skus=("TEA", "RICE"), event_id="sale-1")


def walk(name: str, replies: dict[str, Reply]) -> list[str]:
    """The steps of one journey, answering each by its path's first match in `replies` (else 200)."""
    visit = Visit(user="u1", catalogue=CATALOGUE, rng=random.Random(7))  # noqa: S311  # a repeatable walk, not a secret
    journey, seen = JOURNEYS[name](visit), []
    step = next(journey)
    while True:
        seen.append(f"{step.method} {step.path}")
        reply = next((r for key, r in replies.items() if key in step.path), Reply(200, {"total_cents": 300}))
        try:
            step = journey.send(reply)
        except StopIteration:
            return seen


def test_every_journey_of_the_traffic_model_exists() -> None:
    assert set(JOURNEYS) == set(traffic.JOURNEYS)


def test_order_pay_places_pays_and_opens_the_result_page() -> None:
    steps = walk("order_pay", {"/api/orders": Reply(201, {"total_cents": 300}), "/api/payments": Reply(201)})
    assert steps[0] in ("GET /api/products/TEA", "GET /api/products/RICE")
    assert steps[1:] == ["POST /api/orders", "POST /api/payments", "GET /api/payments/u1-o1"]


def test_a_queued_order_is_not_paid() -> None:
    assert walk("order_pay", {"/api/orders": Reply(202)})[-1] == "POST /api/orders"


def test_a_lost_flash_sale_ends_the_visit_and_a_won_one_buys_the_sale_sku() -> None:
    assert walk("flash_sale", {"/api/seckill": Reply(409)}) == ["GET /api/home", "POST /api/seckill/sale-1"]
    won = walk("flash_sale", {"/api/seckill": Reply(201), "/api/orders": Reply(201, {"total_cents": 99})})
    assert won[2:] == ["POST /api/orders", "POST /api/payments", "GET /api/payments/u1-o1"]


def test_order_ids_are_unique_per_visit() -> None:
    visit = Visit(user="u2", catalogue=CATALOGUE)
    assert [visit.next_order_id() for _ in range(3)] == ["u2-o1", "u2-o2", "u2-o3"]


@pytest.mark.parametrize(
    ("name", "path", "status"), [("checkin", "/api/checkin", 409), ("flash_sale", "/api/seckill/sale-1", 409)]
)
def test_a_business_no_is_an_answer_not_an_error(name: str, path: str, status: int) -> None:
    visit = Visit(user="u3", catalogue=CATALOGUE)
    journey = JOURNEYS[name](visit)
    step = next(journey)
    while step.path != path:
        step = journey.send(Reply(200))
    assert status in step.ok
    assert 500 not in step.ok


def test_only_the_steps_whose_answer_the_journey_reads_ask_for_it() -> None:
    """The load decodes a body only where a journey decides from it (an order's total, to pay it)."""
    visit = Visit(user="u", catalogue=Catalogue(skus=("TEA",), event_id="sale-1"))
    journey = JOURNEYS["order_pay"](visit)
    steps = [next(journey)]
    steps.append(journey.send(Reply(200)))
    steps.append(journey.send(Reply(201, {"total_cents": 300})))
    assert [s.reads for s in steps] == [False, True, False]
