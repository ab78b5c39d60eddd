"""Cluster rules, one table per Istio semantic (mesh-load-anchors.md section 1.1-1.3)."""

import pytest

from lab.mesh.clusters import (
    UNSET_THRESHOLD,
    circuit_breakers,
    cluster,
    cluster_name,
    duration,
    outlier_detection,
    subset_policy,
)

U = UNSET_THRESHOLD


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (None, (U, U, U, U)),
        ({}, (U, U, U, U)),
        ({"tcp": {"maxConnections": 100}}, (100, U, U, U)),
        ({"http": {"http1MaxPendingRequests": 10, "http2MaxRequests": 200, "maxRetries": 3}}, (U, 10, 200, 3)),
        ({"tcp": {"maxConnections": 0}, "http": {"http1MaxPendingRequests": 0}}, (U, U, U, U)),
    ],
)
def test_circuit_breakers_default_to_istios_unset_value_not_envoys(pool: dict | None, expected: tuple) -> None:
    (threshold,) = circuit_breakers(pool)["thresholds"]
    assert (
        threshold["max_connections"],
        threshold["max_pending_requests"],
        threshold["max_requests"],
        threshold["max_retries"],
    ) == expected
    assert threshold["track_remaining"] is True


@pytest.mark.parametrize(
    ("top", "subset", "expected"),
    [
        (
            {"connectionPool": {"tcp": {"maxConnections": 5}, "http": {"http2MaxRequests": 9}}},
            {"connectionPool": {"http": {"http2MaxRequests": 1}}},
            {"connectionPool": {"http": {"http2MaxRequests": 1}}},
        ),
        (
            {"connectionPool": {"tcp": {"maxConnections": 5}}, "outlierDetection": {"consecutive5xxErrors": 3}},
            {"outlierDetection": {"consecutive5xxErrors": 1}},
            {"connectionPool": {"tcp": {"maxConnections": 5}}, "outlierDetection": {"consecutive5xxErrors": 1}},
        ),
        ({"connectionPool": {"tcp": {"maxConnections": 5}}}, None, {"connectionPool": {"tcp": {"maxConnections": 5}}}),
    ],
)
def test_subset_policy_replaces_each_field_wholesale(top: dict, subset: dict | None, expected: dict) -> None:
    assert subset_policy(top, subset) == expected


@pytest.mark.parametrize(
    ("outlier", "detection", "panic"),
    [
        (None, None, None),
        ({}, {"enforcing_success_rate": 0}, 0.0),
        (
            {"consecutive5xxErrors": 3, "interval": "1s", "baseEjectionTime": "15s", "maxEjectionPercent": 50},
            {
                "enforcing_success_rate": 0,
                "consecutive_5xx": 3,
                "enforcing_consecutive_5xx": 100,
                "interval": "1s",
                "base_ejection_time": "15s",
                "max_ejection_percent": 50,
            },
            0.0,
        ),
        (
            {"consecutive5xxErrors": 0},
            {"enforcing_success_rate": 0, "consecutive_5xx": 0, "enforcing_consecutive_5xx": 0},
            0.0,
        ),
        (
            {"consecutiveGatewayErrors": 2, "minHealthPercent": 30},
            {
                "enforcing_success_rate": 0,
                "consecutive_gateway_failure": 2,
                "enforcing_consecutive_gateway_failure": 100,
            },
            30.0,
        ),
        ({"maxEjectionPercent": 0}, {"enforcing_success_rate": 0}, 0.0),
    ],
)
def test_outlier_detection_turns_off_success_rate_and_panic_mode(
    outlier: dict | None, detection: dict | None, panic: float | None
) -> None:
    got, common = outlier_detection(outlier)
    assert got == detection
    assert (common or {}).get("healthy_panic_threshold", {}).get("value") == panic


@pytest.mark.parametrize(
    ("value", "expected"), [("1s", "1s"), ("500ms", "0.5s"), ("2m", "120s"), ("1h", "3600s"), ("1.5s", "1.5s")]
)
def test_duration(value: str, expected: str) -> None:
    assert duration(value) == expected


def test_duration_refuses_what_istio_would() -> None:
    with pytest.raises(ValueError, match="duration '5 seconds'"):
        duration("5 seconds")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("outbound", 8080, "v1", "orders.shop.svc.cluster.local"), "outbound|8080|v1|orders.shop.svc.cluster.local"),
        (("outbound", 8080, "", "orders.shop.svc.cluster.local"), "outbound|8080||orders.shop.svc.cluster.local"),
        (("inbound", 9090, "", ""), "inbound|9090||"),
    ],
)
def test_cluster_names(args: tuple, name: str) -> None:
    assert cluster_name(*args) == name


@pytest.mark.parametrize(("http2", "key"), [(False, "http_protocol_options"), (True, "http2_protocol_options")])
def test_cluster_defaults_and_protocol(http2: bool, key: str) -> None:
    built = cluster("c", {"connectionPool": {"http": {"maxRequestsPerConnection": 50}}}, [("10.0.0.1", 8080)], http2)
    options = built["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
    assert (built["type"], built["connect_timeout"], built["lb_policy"]) == ("STATIC", "10s", "LEAST_REQUEST")
    assert key in options["explicit_http_config"]
    assert options["common_http_protocol_options"] == {"max_requests_per_connection": 50}
    assert "outlier_detection" not in built
