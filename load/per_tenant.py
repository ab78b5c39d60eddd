"""Per-tenant figures of a replay. Locust's statistics are per journey, so the locustfile also records each
request's tenant, response time and outcome (refused 429, or failed), one file per Locust process
(tenants-<pid>.json beside its CSVs); they are merged here for the report: every tenant's rate, refusals and p99."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PATTERN = "tenants-*.json"


@dataclass(frozen=True)
class TenantFigures:
    appid: str
    requests: int
    refused: int  # answered 429: over the tenant's rate limit
    failed: int  # failures of any other kind
    rate_rps: float
    p99_ms: float


@dataclass
class Recorder:
    """What one Locust process saw, per tenant: response times (ms, whole) and the counts."""

    times: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    refused: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    def record(self, tenant: str, response_ms: float, status: int, failed: bool) -> None:
        self.times[tenant].append(round(response_ms))
        self.refused[tenant] += status == 429
        self.failed[tenant] += failed and status != 429

    def write(self, out: Path, pid: int) -> None:
        if self.times:
            document = {
                t: {"times": v, "refused": self.refused[t], "failed": self.failed[t]} for t, v in self.times.items()
            }
            (out / f"tenants-{pid}.json").write_text(json.dumps(document))


def clear(out: Path) -> None:
    """Remove an earlier run's files, so a merge reads this run's only."""
    for stale in out.glob(PATTERN):
        stale.unlink()


def merged(out: Path, seconds: float) -> list[TenantFigures]:
    """Every tenant's figures over the run (seconds long), by requests, most first."""
    times: defaultdict[str, list[int]] = defaultdict(list)
    refused: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for path in sorted(out.glob(PATTERN)):
        for tenant, seen in json.loads(path.read_text()).items():
            times[tenant] += seen["times"]
            refused[tenant] += seen["refused"]
            failed[tenant] += seen["failed"]
    figures = [
        TenantFigures(t, len(v), refused[t], failed[t], len(v) / seconds, float(_p99(v))) for t, v in times.items()
    ]
    return sorted(figures, key=lambda f: (-f.requests, f.appid))


def _p99(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def shown(figures: list[TenantFigures], pinned: str | None, top: int = 10) -> list[TenantFigures]:
    """The report's rows: the pinned tenant (the noisy neighbour) first, then the largest others."""
    first = [f for f in figures if f.appid == pinned]
    return first + [f for f in figures if f.appid != pinned][:top]
