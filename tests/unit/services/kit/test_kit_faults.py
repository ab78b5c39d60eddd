import pytest
from pydantic import ValidationError

from miniapp_services.kit.faults import FaultDecision, FaultSpec, decide


@pytest.mark.parametrize(
    ("spec", "draw", "expected"),
    [
        (FaultSpec(), 0.0, FaultDecision(0.0, None)),
        (FaultSpec(error_rate=0.5), 0.49, FaultDecision(0.0, 503)),
        (FaultSpec(error_rate=0.5), 0.5, FaultDecision(0.0, None)),
        (FaultSpec(error_rate=1.0, status=500), 0.999, FaultDecision(0.0, 500)),
        (FaultSpec(delay_ms=250), 0.3, FaultDecision(0.25, None)),
    ],
)
def test_decide(spec: FaultSpec, draw: float, expected: FaultDecision) -> None:
    assert decide(spec, draw) == expected


@pytest.mark.parametrize(("field", "value"), [("error_rate", 1.5), ("status", 404), ("delay_ms", -1)])
def test_spec_bounds(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        FaultSpec(**{field: value})
