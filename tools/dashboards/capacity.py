"""Every container's working set against its memory budget (the limit the catalog sets), and CPU."""

from __future__ import annotations

from typing import Any

from tools.dashboards.kit import Q, dashboard, stat, timeseries, variable

POD = 'namespace=~"$namespace"'


def build() -> dict[str, Any]:
    rows: dict[str, list[Any]] = {
        "Memory against budget": [
            stat(
                "Least headroom of any container",
                "percentunit",
                Q(f"1 - max(container:memory_working_set:ratio_of_limit{{{POD}}})"),
                description="Budget left by the container closest to its limit.",
            ),
            timeseries(
                "Working set / limit per container",
                "percentunit",
                Q(f"container:memory_working_set:ratio_of_limit{{{POD}}}", "{{pod}} {{container}}"),
                description="Alert PodMemoryNearBudget fires above 90 % for 5 minutes.",
            ),
            timeseries(
                "Working set and limit (bytes)",
                "bytes",
                Q(f"max by (pod, container) (container_memory_working_set_bytes{{{POD}}})", "{{pod}} {{container}}"),
                Q(
                    f"max by (pod, container) (container_spec_memory_limit_bytes{{{POD}}} > 0)",
                    "limit {{pod}} {{container}}",
                ),
            ),
        ],
        "CPU": [
            timeseries(
                "CPU cores used per container",
                "short",
                Q(
                    f"sum by (pod, container) (rate(container_cpu_usage_seconds_total{{{POD}}}[$__rate_interval]))",
                    "{{pod}} {{container}}",
                ),
            ),
        ],
    }
    namespace = variable("namespace", "label_values(container_memory_working_set_bytes, namespace)")
    return dashboard(
        "miniapp-capacity",
        "Capacity: memory budgets and CPU",
        "Working set (what the kernel will not reclaim, cAdvisor's definition) against each container's limit.",
        [namespace],
        rows,
    )
