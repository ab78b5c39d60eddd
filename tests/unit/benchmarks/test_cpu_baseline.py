"""bench-cpu's in-run baseline (benchmarks/baseline.py): a process's CPU read from /proc, and each kind's total
reported as a ratio to the baseline request's CPU measured in the same run."""

import os
import time

from benchmarks import baseline, cpu_per_request


def _kind(total: float) -> dict:
    rows = {"gateway app": total / 4, "product app": total / 4, "PostgreSQL": total / 4, "gateway sidecar": total / 4}
    return {"served": 100, "failed": {}, "rps": 50.0, "p50_ms": 5.0, "p99_ms": 9.0, "driver_ms": 1.0, "rows": rows}


def test_each_kinds_total_is_given_in_baseline_requests() -> None:
    kinds = {"product_read": _kind(4.0), "place_order": _kind(10.0), "pay": _kind(20.0)}
    found = {"idle": {"gateway app": 0.01}, "kinds": kinds, "baseline_ms": 0.05}
    section = cpu_per_request.report(found, "make bench-cpu", 1.0)
    assert "| **x baseline** | **80** | **200** | **400** |" in section
    assert "spends\n**0.050** ms of CPU per request" in section


def test_a_process_cpu_time_is_read_from_proc() -> None:
    before = baseline.cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert baseline.cpu_seconds(os.getpid()) - before >= 0.15
