"""Every request of a replay as its Locust user saw it: name (the journey), tenant, start, response time and
outcome, one file per Locust process (requests-<pid>.json beside its CSVs), merged here.

Locust's own statistics are per name and method, and cumulative: from them a journey's p99 is only bounded
(the largest of its rows', which for a row of fewer than 100 requests is its slowest one), and nothing can be
said of the requests outside a drill's window but their counts. These records give both exactly: the gates
judge a journey's p99 over all its requests, and leave out those that overlap a drill, whose own gates judge
them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from load.gates import JourneyStats

PATTERN = "requests-*.json"
Window = tuple[float, float]  # epoch seconds, start and end


@dataclass(frozen=True)
class Sample:
    name: str  # Locust's request name: the journey, or login, or the noisy neighbour's
    tenant: str  # the appid the request was made for; "" when it named none
    start: float  # epoch seconds, when it was sent
    ms: int  # response time, whole milliseconds
    status: int  # 0 when no answer came
    failed: bool

    @property
    def end(self) -> float:
        return self.start + self.ms / 1000

    def overlaps(self, window: Window) -> bool:
        return self.start < window[1] and self.end > window[0]


@dataclass
class Recorder:
    """What one Locust process saw, a row per request (lists, for a small file)."""

    rows: list[tuple[str, str, float, int, int, bool]] = field(default_factory=list)

    def record(self, sample: Sample) -> None:
        self.rows.append((sample.name, sample.tenant, round(sample.start, 3), sample.ms, sample.status, sample.failed))

    def write(self, out: Path, pid: int) -> None:
        if self.rows:
            (out / f"requests-{pid}.json").write_text(json.dumps(self.rows))


def clear(out: Path) -> None:
    """Remove an earlier run's files, so that a merge reads this run's only."""
    for stale in out.glob(PATTERN):
        stale.unlink()


def read(out: Path) -> list[Sample]:
    """Every process's requests, by start."""
    found = [Sample(*row) for path in sorted(out.glob(PATTERN)) for row in json.loads(path.read_text())]
    return sorted(found, key=lambda s: s.start)


def percentile(ordered: Sequence[int], q: float) -> int:
    """The nearest-rank q-th percentile of sorted values (0 for none): at most 1 - q of them lie above it."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else 0


def partition(samples: Iterable[Sample], windows: Sequence[Window]) -> tuple[list[Sample], list[Sample]]:
    """(those that overlap any of the windows, the others)."""
    overlapping: list[Sample] = []
    others: list[Sample] = []
    for s in samples:
        (overlapping if any(s.overlaps(w) for w in windows) else others).append(s)
    return overlapping, others


def inside(samples: Iterable[Sample], window: Window) -> list[Sample]:
    return [s for s in samples if s.overlaps(window)]


def counts(samples: Iterable[Sample]) -> tuple[int, int]:
    """(requests, failures)."""
    counted = [s.failed for s in samples]
    return len(counted), sum(counted)


def journeys(samples: Iterable[Sample], names: Sequence[str]) -> list[JourneyStats]:
    """Each journey's counts, p50 and p99 over all its requests (every method)."""
    mine: dict[str, list[Sample]] = {name: [] for name in names}
    for s in samples:
        if s.name in mine:
            mine[s.name].append(s)
    found = []
    for name, seen in mine.items():
        times = sorted(s.ms for s in seen)
        requests, failed = counts(seen)
        found.append(
            JourneyStats(name, requests, failed, float(percentile(times, 0.5)), float(percentile(times, 0.99)))
        )
    return found
