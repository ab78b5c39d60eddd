"""Evidence from the lab while and after the replay runs: the seeded catalogue, memory of every container
(cgroups, once a second), the faulty service's callers' circuit-breaker statistics, the fault drill, the
canary subsets' completions, and the saga's invariants on the database. Only the project's own pods."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from lab.mesh import probe, state
from load.gates import MemoryPeak
from load.journeys import Catalogue
from miniapp_services import invariants

ROOT = Path(__file__).resolve().parents[1]
OBJECTS = ROOT / "inventories/lab/rendered/services/services.yml"
# As Prometheus names them (the sidecars' stats port): Envoy's outlier_detection.ejections_active.
BREAKER_STATS = ("outlier_detection_ejections_active", "outlier_detection_ejections_enforced_total",
                 "upstream_rq_pending_overflow")  # fmt: skip
# Each merchant's catalogue holds these; hundreds of merchants make it thousands of products, written in seconds.
SKUS = 8


def write_catalogue(
    appids: Sequence[str],
    products: Mapping[str, dict[str, Any]],
    stock: int | None = None,
    event: tuple[str, dict[str, Any]] | None = None,
) -> None:
    """The same products (and stock of each, and a flash sale) for every tenant, each its own, written straight to
    one pod of each service as that tenant's."""
    lab = state.load()

    def write(service: str, writes: list[probe.Write]) -> None:
        probe.put_all(lab.pods_of(service)[0].name, writes)

    write("product", [probe.Write(f"/products/{sku}", body, a) for a in appids for sku, body in products.items()])
    if stock is not None:
        write("inventory", [probe.Write(f"/stock/{sku}", {"available": stock}, a) for a in appids for sku in products])
    if event is not None:
        event_id, body = event
        write("seckill", [probe.Write(f"/seckill/events/{event_id}", body, a) for a in appids])


def seed(run: str, appids: Sequence[str]) -> Catalogue:
    """Products with stock and a flash sale open for the run, each tenant's own."""
    skus = [f"LOAD-{run}-{i:02d}" for i in range(SKUS)]
    products = {s: {"title": f"Tea {i}", "price_cents": 300 + i, "category": "tea"} for i, s in enumerate(skus)}
    now = datetime.now(UTC)
    sale = {"sku": skus[0], "price_cents": 99, "stock": 500, "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=3)).isoformat()}  # fmt: skip
    write_catalogue(appids, products, stock=1_000_000, event=(f"load-{run}", sale))
    return Catalogue(skus=tuple(skus), event_id=f"load-{run}")


def completed(callers: list[str], host: str, subsets: list[str]) -> dict[str, int]:
    """Requests the callers' sidecars completed to each subset of the host, retries not counted twice."""
    totals = dict.fromkeys(subsets, 0)
    for name in callers:
        found = probe.stats(name, rf"^cluster\.outbound\|\d+\|[^|]+\|{host}\.upstream_rq_(completed|retry)$")
        for key, value in found.items():
            subset = key.split("|")[2]
            if subset in totals:
                totals[subset] += value if key.endswith("completed") else -value
    return totals


def breaker_stats(callers: list[str], host: str) -> dict[str, int]:
    """Ejections and pool overflows of every caller's clusters to the host, summed."""
    sums = dict.fromkeys(BREAKER_STATS, 0)
    for name in callers:
        for key, value in probe.stats(name, rf"^cluster\.outbound\|\d+\|[^|]+\|{host}\.").items():
            stat = key.split(f"|{host}.", 1)[1]
            if stat in sums:
                sums[stat] += value
    return sums


# Rounds further apart than this (a dead sampler, one stalled by a saturated host) count as evidence missing for
# every container; a round is normally a second plus a fraction for its reads.
GRACE_S = 10.0


@dataclass
class Watch:
    """One container as the sampler follows it: its cgroup now, its peak, and the time it was down or unread."""

    container: probe.Container
    peak_bytes: int = 0
    cpu_s: float = 0.0
    down_s: float = 0.0
    unsampled_s: float = 0.0
    restarts: int = 0
    oom_killed: bool = False
    down: bool = False

    def observe(self, dt: float) -> int:
        """Read it once (following it to a new cgroup); the working set read, 0 when down or unreadable."""
        try:
            used = probe.usage(self.container)
        except OSError:
            now, oom = probe.current(self.container)
            self.oom_killed |= oom
            if now is None:
                self.down_s, self.down = self.down_s + dt, True
                return 0
            self.container = now
            try:
                used = probe.usage(now)
            except OSError:
                self.unsampled_s += dt
                return 0
        # Back after being seen down, or a CPU counter that went back: a new process in a new cgroup.
        self.restarts += self.down or used.cpu_seconds < self.cpu_s
        self.down, self.cpu_s = False, used.cpu_seconds
        self.peak_bytes = max(self.peak_bytes, used.working_set_bytes)
        return used.working_set_bytes


@dataclass(eq=False)  # a thread: compared and hashed by identity
class Sampler(threading.Thread):
    """Once a second: every container's working set, and the breaker statistics of the faulty host's callers.
    It follows a restarted container to its new cgroup, and counts the time any evidence was missing."""

    callers: list[str]
    host: str
    period_s: float = 1.0
    samples: list[dict[str, Any]] = field(default_factory=list)
    pod_peaks: dict[str, int] = field(default_factory=dict)
    failure: str | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)
        self.stop_event = threading.Event()
        self.watches = [Watch(c) for c in probe.containers()]
        self.last_round: float | None = None
        self.began = self.clock()
        self.ended: float | None = None

    def stop(self) -> None:
        """End sampling now; a tail after this (the gates computed later) is not evidence the sampler missed."""
        self.ended = self.clock()
        self.stop_event.set()

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self.sample(self.clock())
                self.stop_event.wait(self.period_s)
        except Exception as exc:  # any: the gate must learn the evidence stopped, and why
            self.failure = f"{type(exc).__name__}: {exc}"

    def sample(self, at: float) -> None:
        dt = 0.0 if self.last_round is None else at - self.last_round
        # A stalled round's gap counts once, as unsampled for every container, not again as down or unread.
        gap = 0.0 if self._stalled(dt) else dt
        self.last_round = at
        pods: dict[str, int] = {}
        for w in self.watches:
            pods[w.container.pod] = pods.get(w.container.pod, 0) + w.observe(gap)
        for name, used in pods.items():
            self.pod_peaks[name] = max(self.pod_peaks.get(name, 0), used)
        try:
            breaker: dict[str, int] | None = breaker_stats(self.callers, self.host)
        except (httpx.HTTPError, OSError):
            breaker = None  # a caller's sidecar restarting: this second has no breaker reading
        self.samples.append({"t": at, "breaker": breaker, "memory": pods})

    def _stalled(self, dt: float) -> bool:
        if dt <= GRACE_S:
            return False
        for w in self.watches:
            w.unsampled_s += dt
        return True

    def memory_peaks(self, at: float | None = None) -> list[MemoryPeak]:
        """Each container's peak and what befell it; the time from the last round to the end of sampling counts as
        unsampled if the sampler stopped early (`at`: when sampling should have ended; by default when `stop` was
        called, or now if it was not)."""
        end = at if at is not None else self.ended if self.ended is not None else self.clock()
        tail = 0.0 if self.last_round is None else end - self.last_round
        missed = tail if tail > GRACE_S else 0.0
        stopped = probe.stopped_or_oom_killed([w.container.name for w in self.watches])
        stopped |= probe.oom_killed_since(self.began)  # restarted by the kubelet stand-in before a round saw it down
        return [
            MemoryPeak(
                pod=w.container.pod,
                container=w.container.name,
                peak_bytes=w.peak_bytes,
                budget_bytes=w.container.budget_bytes,
                oom_killed=w.container.name in stopped or w.oom_killed,
                restarts=w.restarts,
                down_s=w.down_s,
                unsampled_s=w.unsampled_s + missed,
            )
            for w in self.watches
        ]


def breaker_timeline(samples: list[dict[str, Any]], hour: Callable[[float], float]) -> list[dict[str, Any]]:
    """The sampler's breaker statistics as the report plots them: active ejections, and overflows and
    enforced ejections counted from the run's start."""
    samples = [s for s in samples if s["breaker"] is not None]
    if not samples:
        return []
    first = samples[0]["breaker"]
    return [
        {
            "hour": hour(s["t"]),
            "ejections_active": s["breaker"]["outlier_detection_ejections_active"],
            "ejections_enforced": s["breaker"]["outlier_detection_ejections_enforced_total"]
            - first["outlier_detection_ejections_enforced_total"],
            "overflow": s["breaker"]["upstream_rq_pending_overflow"] - first["upstream_rq_pending_overflow"],
        }
        for s in samples
    ]


def saga_invariants(wait_s: float = 90) -> tuple[dict[str, list[str]], list[str]]:
    """The invariants once the saga's recovery has finished the checkouts still between steps (bounded wait), read
    with them in one snapshot."""
    deadline = time.monotonic() + wait_s
    while True:
        found, unfinished = invariants.split(_pair(line) for line in probe.sql(invariants.SNAPSHOT))
        if not unfinished or time.monotonic() >= deadline:
            return found, unfinished
        time.sleep(2)


def _pair(line: str) -> tuple[str, str]:
    name, item = line.split("|", 1)  # psql's unaligned output; no invariant's name holds a '|'
    return name, item
