"""What the mini-program's owners watch: traffic, check-ins, orders, payment and the flash sale."""

from __future__ import annotations

from typing import Any

from tools.dashboards.kit import Q, dashboard, stat, timeseries, variable


def _events(event: str, per: str = "") -> str:
    rate = f'sum(rate(miniapp_business_events_total{{event="{event}", namespace=~"$namespace"}}[$__rate_interval]))'
    return f"{rate} * 60" if per == "min" else rate


def build() -> dict[str, Any]:
    paid_share = (
        '(sum(rate(miniapp_business_events_total{event="order_paid", namespace=~"$namespace"}[$__rate_interval]))'
        " or vector(0))\n/ " + _events("order_created")
    )
    rows: dict[str, list[Any]] = {
        "Traffic": [
            stat("Page views /s", "reqps", Q(_events("page_view"))),
            stat(
                "Page views, last 24 h",
                "short",
                Q('sum(increase(miniapp_business_events_total{event="page_view", namespace=~"$namespace"}[24h]))'),
                description="The design's peak day is 8 million.",
            ),
            stat("Check-ins /min", "short", Q(_events("checkin", "min"))),
            stat("Orders paid /min", "short", Q(_events("order_paid", "min"))),
            timeseries(
                "Page views and check-ins /s",
                "reqps",
                Q(_events("page_view"), "page views"),
                Q(_events("checkin"), "check-ins"),
                description="The 8am peak is check-in, the 9pm peak the flash sale.",
            ),
        ],
        "Orders and payment": [
            timeseries(
                "Orders created and paid /min",
                "short",
                Q(_events("order_created", "min"), "created"),
                Q(_events("order_paid", "min"), "paid"),
            ),
            timeseries(
                "Pay success rate",
                "percentunit",
                Q(paid_share, "paid / created"),
                description="Orders paid over orders created; a drop means pay or its callers fail.",
            ),
        ],
        "Flash sale": [
            timeseries("Flash-sale units sold /min", "short", Q(_events("seckill_success", "min"), "sold")),
            timeseries(
                "Flash-sale stock left",
                "short",
                Q('sum by (item) (miniapp_stock_remaining{namespace=~"$namespace"})', "{{item}}"),
                description="Units left per flash-sale event; it never goes below zero.",
            ),
        ],
    }
    namespace = variable("namespace", "label_values(miniapp_business_events_total, namespace)")
    return dashboard(
        "miniapp-business",
        "Mini-program business",
        "Page views, check-ins, orders, payment and the flash sale, from the services' own counters.",
        [namespace],
        rows,
    )
