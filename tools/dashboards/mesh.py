"""The mesh per service and version, from the sidecars' inbound and outbound clusters (Istio's telemetry is
stripped, so Envoy's own stats are the source): traffic, latency, errors, breakers, ejections, canary share; and
the gateway's degradation (its breakers and the fallbacks it served, from its own metrics)."""

from __future__ import annotations

from typing import Any

from tools.dashboards.kit import Q, dashboard, logs, or_zero, timeseries, variable

INBOUND = 'cluster_name=~"inbound\\\\|.*", namespace=~"$namespace", app=~"$app"'
OUTBOUND = 'cluster_name=~"outbound\\\\|.*", namespace=~"$namespace", app=~"$app"'
REQUESTS = f"sum by (app, version) (rate(envoy_cluster_upstream_rq_total{{{INBOUND}}}[$__rate_interval]))"


def _latency(quantile: str) -> str:
    buckets = f"rate(envoy_cluster_upstream_rq_time_bucket{{{INBOUND}}}[$__rate_interval])"
    return f"histogram_quantile({quantile}, sum by (app, version, le) ({buckets}))"


def _breaker_state() -> str:
    state = 'max by (endpoint) (miniapp_breaker_state{{namespace=~"$namespace", state="{}"}})'
    return f"{state.format('open')}\n+ 0.5 * {state.format('half_open')}"


def build() -> dict[str, Any]:
    errors = or_zero(
        f'sum by (app, version) (rate(envoy_cluster_upstream_rq{{{INBOUND}, response_code_class="5xx"}}'
        "[$__rate_interval]))",
        REQUESTS,
    )
    share = (
        REQUESTS + f"\n/ ignoring (version) group_left\nsum by (app) (rate(envoy_cluster_upstream_rq_total{{{INBOUND}}}"
        "[$__rate_interval]))"
    )
    rows: dict[str, list[Any]] = {
        "Traffic": [
            timeseries("Requests /s by service and version", "reqps", Q(REQUESTS, "{{app}} {{version}}")),
            timeseries(
                "Canary beside stable: share of each service's requests",
                "percentunit",
                Q(share, "{{app}} {{version}}"),
                description="Each version's share of its service's traffic; compare with the catalog's weights.",
            ),
            timeseries(
                "Latency p50 and p99 (ms)",
                "ms",
                Q(_latency("0.5"), "p50 {{app}} {{version}}"),
                Q(_latency("0.99"), "p99 {{app}} {{version}}"),
                description="Time the app took to answer its sidecar (upstream_rq_time of the inbound cluster).",
            ),
            timeseries("5xx /s by service and version", "reqps", Q(errors, "{{app}} {{version}}")),
        ],
        "Resilience": [
            timeseries(
                "Circuit-breaker overflow /s",
                "reqps",
                Q(
                    "sum by (app, cluster_name) (rate(envoy_cluster_upstream_rq_pending_overflow"
                    f"{{{OUTBOUND}}}[$__rate_interval]))",
                    "{{app}} → {{cluster_name}}",
                ),
                description="Calls refused by a DestinationRule connectionPool limit, by caller and destination.",
            ),
            timeseries(
                "Outlier ejections active",
                "short",
                Q(
                    f"sum by (app, cluster_name) (envoy_cluster_outlier_detection_ejections_active{{{OUTBOUND}}})",
                    "{{app}} → {{cluster_name}}",
                ),
                description="Replicas out of rotation after consecutive 5xx (DestinationRule outlierDetection).",
            ),
        ],
        "Degradation (gateway)": [
            timeseries(
                "Breaker state by endpoint",
                "short",
                Q(_breaker_state(), "{{endpoint}}"),
                description="0 closed, 0.5 half-open (one probe in flight), 1 open; the catalog's degradation rules.",
            ),
            timeseries(
                "Fallbacks served /s",
                "reqps",
                Q(
                    'sum by (endpoint, reason) (rate(miniapp_degraded_total{namespace=~"$namespace"}[$__rate_interval]))'
                    "\nor vector(0)",
                    "{{endpoint}} {{reason}}",
                ),
                description="Cached profile, cached page, order queue; reason: over_rate, breaker_open, call_failed.",
            ),
        ],
        "Logs": [
            logs(
                "Error logs (Loki): open a line's trace_id to follow the request",
                '{namespace=~"$namespace", app=~"$app"} | json | level=~"ERROR|WARNING"',
            ),
        ],
    }
    namespace = variable("namespace", "label_values(envoy_cluster_upstream_rq_total, namespace)")
    app = variable("app", 'label_values(envoy_cluster_upstream_rq_total{namespace=~"$namespace"}, app)')
    return dashboard(
        "miniapp-mesh",
        "Mesh: services and versions",
        "Per service and version from the Envoy sidecars: requests, latency, errors, breakers and ejections.",
        [namespace, app],
        rows,
    )
