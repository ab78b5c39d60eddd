"""Per-tenant figures of a replay, from every request's record (load/samples.py): each tenant's rate,
refusals (429: over its rate limit) apart from other failures, and p99."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from load.samples import Sample, percentile


@dataclass(frozen=True)
class TenantFigures:
    appid: str
    requests: int
    refused: int  # answered 429: over the tenant's rate limit
    failed: int  # failures of any other kind
    rate_rps: float
    p99_ms: float


def merged(samples: Iterable[Sample], seconds: float) -> list[TenantFigures]:
    """Every tenant's figures over the run (seconds long), by requests, most first."""
    by_tenant: defaultdict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.tenant:
            by_tenant[s.tenant].append(s)
    figures = [
        TenantFigures(
            tenant,
            len(seen),
            sum(s.status == 429 for s in seen),
            sum(s.failed and s.status != 429 for s in seen),
            len(seen) / seconds,
            float(percentile(sorted(s.ms for s in seen), 0.99)),
        )
        for tenant, seen in by_tenant.items()
    ]
    return sorted(figures, key=lambda f: (-f.requests, f.appid))


def shown(figures: list[TenantFigures], pinned: str | None, top: int = 10) -> list[TenantFigures]:
    """The report's rows: the pinned tenant (the noisy neighbour) first, then the largest others."""
    first = [f for f in figures if f.appid == pinned]
    return first + [f for f in figures if f.appid != pinned][:top]
