# -*- coding: utf-8 -*-
# Copyright: miniapp-mesh contributors
# Apache-2.0 (see LICENSE)
"""The journeys' service-level objectives: the one definition that both the Prometheus rules (generated
from it, roles/observability/files/rules/journeys.rules.yml) and the handover's gates (load/settings.py) read.

A journey is what a mini-program user does in one visit (load/journeys.py); Prometheus sees the gateway's
routes, so each journey owns the gateway routes that only it uses, and the rules judge those. A business
"no" (already checked in, sold out) is a 4xx answer and not an error; errors are 5xx answers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JourneySlo:
    journey: str
    p99_ms: float  # 99th percentile response time of the journey's requests
    max_error_rate: float  # failed requests / requests, over the judged window
    routes: tuple[str, ...]  # the gateway routes (FastAPI templates) the journey owns


SLOS: tuple[JourneySlo, ...] = (
    JourneySlo("browse", 300, 0.005, ("/api/home", "/api/products/{sku}", "/api/search", "/api/cart/items/{sku}")),
    JourneySlo("checkin", 300, 0.005, ("/api/checkin",)),
    JourneySlo("order_pay", 800, 0.005, ("/api/orders", "/api/payments", "/api/payments/{order_id}")),
    JourneySlo("flash_sale", 500, 0.005, ("/api/seckill/{event_id}",)),
)
# The gateway's latency histogram needs a bucket at every objective, or its p99 is interpolated across it.
OBJECTIVE_BUCKETS_S = tuple(sorted({s.p99_ms / 1000 for s in SLOS}))


def by_journey() -> dict[str, JourneySlo]:
    return {s.journey: s for s in SLOS}


def _selector(slo: JourneySlo, extra: str = "") -> str:
    routes = "|".join(r.replace("{", "\\\\{").replace("}", "\\\\}") for r in slo.routes)
    return f'{{app="gateway", route=~"{routes}"{extra}}}'


def _recording(slo: JourneySlo) -> list[dict[str, Any]]:
    """The journey's request and error rates, p99 and error ratio over 5 minutes, labelled with it."""
    of = f'{{journey="{slo.journey}"}}'
    requests, errors = "journey:miniapp_requests:rate5m", "journey:miniapp_errors:rate5m"
    buckets = f"rate(miniapp_http_request_duration_seconds_bucket{_selector(slo)}[5m])"
    server_errors = _selector(slo, ', code=~"5.."')
    all_requests = f"sum(rate(miniapp_http_requests_total{_selector(slo)}[5m]))"
    rules = [
        (requests, all_requests),
        # No 5xx at all is a rate of 0, not no data (an alert must see the journey healthy).
        (errors, f"sum(rate(miniapp_http_requests_total{server_errors}[5m])) or {all_requests} * 0"),
        ("journey:miniapp_latency_seconds:p99_5m", f"histogram_quantile(0.99, sum by (le) ({buckets}))"),
        ("journey:miniapp_errors:ratio_rate5m", f"{errors}{of} / {requests}{of}"),
    ]
    return [{"record": name, "expr": expr, "labels": {"journey": slo.journey}} for name, expr in rules]


def _alerts(slo: JourneySlo) -> list[dict[str, Any]]:
    name = "".join(part.capitalize() for part in slo.journey.split("_"))
    of = f'{{journey="{slo.journey}"}}'
    labels = {"severity": "ticket", "journey": slo.journey}
    return [  # each alert its own labels mapping: the rule file is written without YAML anchors
        {
            "alert": f"Journey{name}LatencyOverObjective",
            "expr": f"journey:miniapp_latency_seconds:p99_5m{of} > {slo.p99_ms / 1000:g}",
            "for": "10m",
            "labels": dict(labels),
            "annotations": {
                "summary": f"{slo.journey} p99 above its objective of {slo.p99_ms:g} ms",
                "description": f"1 % of the {slo.journey} journey's requests take longer than {{{{ $value | humanizeDuration }}}}.",
            },
        },
        {
            "alert": f"Journey{name}ErrorsOverObjective",
            "expr": f"journey:miniapp_errors:ratio_rate5m{of} > {slo.max_error_rate:g}",
            "for": "10m",
            "labels": dict(labels),
            "annotations": {
                "summary": f"{slo.journey} errors above its objective of {slo.max_error_rate:.1%}",
                "description": f"{{{{ $value | humanizePercentage }}}} of the {slo.journey} journey's requests failed (5xx).",
            },
        },
    ]


def rule_groups() -> dict[str, Any]:
    """The journeys' recording and alerting rules, as a Prometheus rule file."""
    recording = [rule for slo in SLOS for rule in _recording(slo)]
    alerts = [alert for slo in SLOS for alert in _alerts(slo)]
    return {
        "groups": [
            {"name": "miniapp-journey-recording", "rules": recording},
            {"name": "miniapp-journey-alerts", "rules": alerts},
        ]
    }
