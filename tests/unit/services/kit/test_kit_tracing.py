"""Head sampling by path (kit/tracing.py): a trace started on a hot path is recorded at its ratio, the longest
matching prefix deciding, any other at the service's; a trace that arrives keeps its caller's decision."""

from opentelemetry import trace

from miniapp_services.kit import tracing

SAMPLING = tracing.Sampling(0.0, {"/api/payments": 1.0, "/api/payments/refunds": 0.0})


def _recorded(name: str, carrier: dict[str, str] | None = None) -> bool:
    tracer = tracing.make_provider("gateway", "v1", SAMPLING).get_tracer("t")
    with tracer.start_as_current_span(name, context=tracing.extract(carrier or {})) as span:
        return span.is_recording()


def test_a_hot_path_is_recorded_at_its_ratio_and_the_rest_at_the_services() -> None:
    assert _recorded("POST /api/payments")
    assert _recorded("GET /api/payments/o-1")
    assert not _recorded("GET /api/products/TEA")
    assert not _recorded("Payments.Settle")  # a gRPC method's span: no path, the service's ratio


def test_the_longest_prefix_decides() -> None:
    assert not _recorded("POST /api/payments/refunds/o-1")


def test_a_trace_that_arrives_keeps_its_callers_decision() -> None:
    sampled = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    unsampled = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}
    assert _recorded("GET /api/products/TEA", sampled)
    assert not _recorded("POST /api/payments", unsampled)


def test_an_unrecorded_span_still_carries_its_trace_id_onwards() -> None:
    tracer = tracing.make_provider("gateway", "v1", SAMPLING).get_tracer("t")
    with tracer.start_as_current_span("GET /api/products/TEA") as span:
        assert not span.is_recording()
        carried = tracing.inject({})
    assert carried["traceparent"].split("-")[1] == format(span.get_span_context().trace_id, "032x")
    assert not trace.TraceFlags(int(carried["traceparent"][-2:], 16)).sampled
