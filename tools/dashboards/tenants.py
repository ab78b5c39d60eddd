"""Per tenant (a merchant's mini-program): requests, refusals over its rate, errors and p99, from the gateway's
per-tenant histogram. Hundreds of tenants share the installation, so the top rows show the ten largest of each
figure, and the last row the tenants picked in the variable."""

from __future__ import annotations

from typing import Any

from tools.dashboards.kit import Q, dashboard, or_zero, timeseries, variable

METRIC = "miniapp_tenant_request_duration_seconds"
TOP = 10


def _rate(selector: str, by: str = "tenant") -> str:
    return f"sum by ({by}) (rate({METRIC}_count{{{selector}}}[$__rate_interval]))"


def _share(outcome: str, selector: str) -> str:
    """A share of the tenants' requests; 0 (not no data) for a tenant with none of that outcome."""
    part = _rate(f'{selector}, outcome="{outcome}"')
    return f"({or_zero(part, _rate(selector))})\n/ {_rate(selector)}"


def _p99(selector: str) -> str:
    buckets = f"rate({METRIC}_bucket{{{selector}}}[$__rate_interval])"
    return f"histogram_quantile(0.99, sum by (tenant, le) ({buckets}))"


def build() -> dict[str, Any]:
    every, picked = 'service="gateway"', 'service="gateway", tenant=~"$tenant"'
    limited = _rate(f'{every}, outcome="limited"')
    rows: dict[str, list[Any]] = {
        f"Top {TOP} tenants": [
            timeseries("Requests /s", "reqps", Q(f"topk({TOP}, {_rate(every)})", "{{tenant}}")),
            timeseries(
                "Refused over their rate (429) /s",
                "reqps",
                Q(f"topk({TOP}, {limited})\nor vector(0)", "{{tenant}}"),
                description="A tenant over its configured rate (config centre: rate_limit_rps) is refused with"
                " 429; no other tenant's requests are.",
            ),
            timeseries(
                "Errors (5xx), share of requests",
                "percentunit",
                Q(f"topk({TOP}, {_share('error', every)})", "{{tenant}}"),
            ),
            timeseries("Slowest p99", "s", Q(f"topk({TOP}, {_p99(every)})", "{{tenant}}")),
        ],
        "Picked tenants": [
            timeseries(
                "Requests /s by outcome",
                "reqps",
                Q(_rate(picked, "tenant, outcome"), "{{tenant}} {{outcome}}"),
                description="ok; limited (429, over the rate); refused (any other 4xx); error (5xx).",
            ),
            timeseries("Errors (5xx), share of requests", "percentunit", Q(_share("error", picked), "{{tenant}}")),
            timeseries("Latency p99", "s", Q(_p99(picked), "{{tenant}}")),
        ],
    }
    tenant = variable("tenant", f"label_values({METRIC}_count, tenant)")
    return dashboard(
        "miniapp-tenants",
        "Tenants: merchants' mini-programs",
        "Each tenant's requests, refusals over its rate, errors and p99 at the gateway (admitted sessions only).",
        [tenant],
        rows,
    )
