"""The external etcd cluster K3s stores its state in: leadership, disk latency, size and proposals."""

from __future__ import annotations

from typing import Any

from tools.dashboards.kit import Q, dashboard, stat, timeseries


def _p99(histogram: str) -> str:
    return f"histogram_quantile(0.99, sum by (instance, le) (rate({histogram}_bucket[$__rate_interval])))"


def build() -> dict[str, Any]:
    rows: dict[str, list[Any]] = {
        "Cluster": [
            stat("Members with a leader", "short", Q("sum(etcd_server_has_leader)")),
            stat("Leader changes, last hour", "short", Q("sum(increase(etcd_server_leader_changes_seen_total[1h]))")),
            stat("Failed proposals /s", "short", Q("sum(rate(etcd_server_proposals_failed_total[$__rate_interval]))")),
            stat("Largest database", "bytes", Q("max(etcd_mvcc_db_total_size_in_bytes)")),
        ],
        "Disk": [
            timeseries(
                "WAL fsync p99",
                "s",
                Q(_p99("etcd_disk_wal_fsync_duration_seconds"), "{{instance}}"),
                description="Should stay under 10 ms; alert EtcdSlowFsync above 500 ms.",
            ),
            timeseries("Backend commit p99", "s", Q(_p99("etcd_disk_backend_commit_duration_seconds"), "{{instance}}")),
            timeseries("Database size", "bytes", Q("etcd_mvcc_db_total_size_in_bytes", "{{instance}}")),
            timeseries(
                "Proposals committed /s",
                "short",
                Q("rate(etcd_server_proposals_committed_total[$__rate_interval])", "{{instance}}"),
            ),
        ],
    }
    return dashboard("miniapp-etcd", "etcd", "The external etcd members that hold K3s's state.", [], rows)
