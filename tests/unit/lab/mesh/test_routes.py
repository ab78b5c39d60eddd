"""Route rules: Istio's default retries and 0 s timeout, weighted clusters, header matchers (section 1.4)."""

import pytest

from lab.mesh.routes import (
    DEFAULT_RETRY_ON,
    block_all,
    default_route,
    domains,
    header_matchers,
    retry_policy,
    route_action,
    routes,
)

HOST = "orders.shop.svc.cluster.local"


def dest(subset: str, weight: int | None = None) -> dict:
    d: dict = {"destination": {"host": HOST, "subset": subset}}
    if weight is not None:
        d["weight"] = weight
    return d


@pytest.mark.parametrize(
    ("retries", "expected"),
    [
        (None, {"retry_on": DEFAULT_RETRY_ON, "num_retries": 2}),
        ({"attempts": 0}, None),
        (
            {"attempts": 3, "perTryTimeout": "1s"},
            {"retry_on": DEFAULT_RETRY_ON, "num_retries": 3, "per_try_timeout": "1s"},
        ),
        (
            {"attempts": 1, "retryOn": "5xx,503,gateway-error"},
            {"retry_on": "5xx,gateway-error,retriable-status-codes", "num_retries": 1, "retriable_status_codes": [503]},
        ),
    ],
)
def test_retry_policy(retries: dict | None, expected: dict | None) -> None:
    got = retry_policy(retries)
    if expected is None:
        assert got is None
        return
    assert {k: got[k] for k in expected} == expected
    assert got["host_selection_retry_max_attempts"] == 5
    assert got["retry_host_predicate"][0]["name"] == "envoy.retry_host_predicates.previous_hosts"


def test_default_retry_does_not_retry_503() -> None:
    assert "503" not in str(retry_policy(None))


@pytest.mark.parametrize(
    ("http", "expected"),
    [
        ({"route": [dest("v1")]}, {"cluster": f"outbound|8080|v1|{HOST}", "timeout": "0s"}),
        (
            {"route": [dest("v1", 90), dest("v2", 10)], "timeout": "3s"},
            {
                "weighted_clusters": {
                    "clusters": [
                        {"name": f"outbound|8080|v1|{HOST}", "weight": 90},
                        {"name": f"outbound|8080|v2|{HOST}", "weight": 10},
                    ]
                },
                "timeout": "3s",
            },
        ),
        (
            {"route": [dest("v1", 100), dest("v2", 0)]},
            {"weighted_clusters": {"clusters": [{"name": f"outbound|8080|v1|{HOST}", "weight": 100}]}, "timeout": "0s"},
        ),
    ],
)
def test_route_action(http: dict, expected: dict) -> None:
    got = route_action(http, 8080)
    assert {k: v for k, v in got.items() if k != "retry_policy"} == expected
    assert "total_weight" not in str(got)


def test_header_matchers_sorted_with_presence() -> None:
    got = header_matchers(
        {"x-b": {"prefix": "p"}, "x-a": {"exact": "e"}, "x-c": {}, "x-d": {"regex": "*"}, "x-e": {"regex": "v[0-9]"}}
    )
    assert got == [
        {"name": "x-a", "string_match": {"exact": "e"}},
        {"name": "x-b", "string_match": {"prefix": "p"}},
        {"name": "x-c", "present_match": True},
        {"name": "x-d", "present_match": True},
        {"name": "x-e", "string_match": {"safe_regex": {"regex": "v[0-9]"}}},
    ]


def test_routes_in_order_and_nothing_after_a_catch_all() -> None:
    spec = {
        "http": [
            {"name": "release-tag", "match": [{"headers": {"x-release-tag": {"exact": "v2"}}}], "route": [dest("v2")]},
            {"name": "weighted", "route": [dest("v1", 90), dest("v2", 10)]},
            {"name": "never", "route": [dest("v1")]},
        ]
    }
    got = routes(spec, 8080)
    assert [r["name"] for r in got] == ["release-tag", "weighted"]
    assert got[0]["match"] == {
        "prefix": "/",
        "case_sensitive": True,
        "headers": [{"name": "x-release-tag", "string_match": {"exact": "v2"}}],
    }
    assert got[1]["match"] == {"prefix": "/"}


def test_default_route_and_domains_and_block_all() -> None:
    assert default_route(HOST, 8080)["route"]["cluster"] == f"outbound|8080||{HOST}"
    assert domains(HOST, 8080)[:4] == [HOST, "orders", "orders.shop", "orders.shop.svc"]
    assert block_all()["routes"][0]["direct_response"] == {"status": 502}
