"""The payment deadline on the order itself: fixed at placement, and expiry that touches only what is due."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from miniapp_services.order import domain
from miniapp_services.order.domain import Line, Status

PLACED = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
LINES = (Line("TEA", 1, 250),)


def _order(deadline: timedelta | None = timedelta(minutes=15)) -> domain.Order:
    return domain.new_order("o-1", 7, LINES, PLACED, deadline)


def test_the_deadline_is_fixed_at_placement() -> None:
    assert _order().pay_by == PLACED + timedelta(minutes=15)
    assert _order(None).pay_by is None


@pytest.mark.parametrize("late", [timedelta(0), timedelta(hours=3)], ids=["at-the-deadline", "long-after"])
def test_an_unpaid_order_is_cancelled_from_its_deadline_on(late: timedelta) -> None:
    order = _order()
    assert domain.expire(order, order.pay_by + late).status is Status.CANCELLED  # type: ignore[operator]


@pytest.mark.parametrize(
    ("status", "now"),
    [
        (Status.PENDING_PAYMENT, PLACED + timedelta(minutes=14, seconds=59)),
        (Status.PAID, PLACED + timedelta(hours=1)),
        (Status.CHARGING, PLACED + timedelta(hours=1)),
        (Status.COMPENSATING, PLACED + timedelta(hours=1)),
        (Status.CANCELLED, PLACED + timedelta(hours=1)),
    ],
    ids=["not-yet-due", "paid", "charging", "compensating", "cancelled"],
)
def test_expiry_leaves_everything_else_as_it_is(status: Status, now: datetime) -> None:
    """A checkout in the saga is the saga's to finish; a paid or cancelled order is settled."""
    order = replace(_order(), status=status)
    assert domain.expire(order, now) is order


def test_an_order_without_a_deadline_never_expires() -> None:
    order = _order(None)
    assert domain.expire(order, PLACED + timedelta(days=365)) is order
