import pytest

from miniapp_services.inventory import domain
from miniapp_services.inventory.domain import State, Stock
from miniapp_services.kit.errors import Conflict, DomainError


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("reserve", 3)], Stock("A", 7, 3, 0)),
        ([("reserve", 3), ("release", None)], Stock("A", 10, 0, 0)),
        ([("reserve", 3), ("commit", None)], Stock("A", 7, 0, 3)),
        ([("reserve", 10), ("commit", None), ("commit", None)], Stock("A", 0, 0, 10)),
    ],
)
def test_moves_conserve_total(steps: list[tuple[str, int | None]], expected: Stock) -> None:
    stock, reservation = Stock("A", 10), None
    for step, qty in steps:
        if step == "reserve":
            stock, reservation = domain.reserve(stock, "o1", qty)
        else:
            to = State.RELEASED if step == "release" else State.COMMITTED
            stock, reservation = domain.settle(stock, reservation, to)
        assert stock.total == 10
    assert stock == expected


def test_over_reserve_is_a_conflict_naming_quantity() -> None:
    with pytest.raises(Conflict, match="only 2 of A available, 3 asked") as err:
        domain.reserve(Stock("A", 2), "o1", 3)
    assert err.value.field == "quantity"


@pytest.mark.parametrize("qty", [0, -1])
def test_quantity_must_be_positive(qty: int) -> None:
    with pytest.raises(DomainError, match="quantity must be 1 or more"):
        domain.reserve(Stock("A", 2), "o1", qty)


def test_released_reservation_cannot_be_committed() -> None:
    stock, r = domain.reserve(Stock("A", 5), "o1", 1)
    stock, r = domain.settle(stock, r, State.RELEASED)
    with pytest.raises(Conflict, match="is released, cannot become committed"):
        domain.settle(stock, r, State.COMMITTED)


def test_restock_refuses_negative() -> None:
    with pytest.raises(DomainError) as err:
        domain.restock(Stock("A", 1), -1)
    assert err.value.field == "available"
