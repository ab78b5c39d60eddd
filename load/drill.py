"""The fault drill and the canary samples, on the lab while and after Locust runs.

The drill makes one replica slow and failing for a window of the replayed day (by default across the 9pm
flash-sale peak). A stalled payment page makes its users refresh: the drill replays one such refresh storm
where it lands, a bounded burst of concurrent payment reads from the callers' pods through their sidecars,
which is what fills their connection pools (the replay's own rate, at lab scale, never would). Then it removes the fault and times the
replica's return: no caller ejects it and it serves again. The fault is removed whatever happens (finally),
and every wait is bounded.

The crash step kills one replica's app container mid-day (SIGKILL) and times the kubelet stand-in's restart.
The database step stops the primary's host earlier in the day (as a power cut would, orderly), times Patroni's
promotion of the synchronous standby, starts the host again and waits for it to rejoin as a standby; the
services reconnect by themselves (multi-host URLs) or the failover gate says they did not.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from lab.mesh import kubelet, probe, state
from lab.podman import podman
from load import evidence, tenants
from load.settings import LoadSettings
from miniapp_services.clients.signed import alogin


class Drill(threading.Thread):
    def __init__(self, settings: LoadSettings, started: threading.Event, callers: list[str], host: str) -> None:
        super().__init__(daemon=True)
        self.settings, self.started, self.callers, self.host = settings, started, callers, host
        self.storm: dict[int, int] = {}
        self.locust_done = threading.Event()
        self.started_at: float | None = None
        self.fault_on: float | None = None
        self.fault_off: float | None = None
        self.returned_after_s: float | None = None
        self.breaker_at_on = self.breaker_at_end = dict.fromkeys(evidence.BREAKER_STATS, 0)

    def run(self) -> None:
        if not self.started.wait(timeout=120):
            return
        self.started_at = time.time()
        start, end = self.settings.fault_window
        replica = self.settings.fault_replica
        try:
            if self.locust_done.wait(max(self.started_at + start - time.time(), 0)):
                return
            self.breaker_at_on = evidence.breaker_stats(self.callers, self.host)
            fault = {"error_rate": 1.0, "status": 503, "delay_ms": self.settings.fault_delay_ms}
            # Stamped before the call: the fault may act as soon as the replica has it, before the call returns.
            self.fault_on = time.time()
            probe.set_fault(replica, fault)
            self.storm = _refresh_storm(self.callers, self.host, self.settings.storm_requests, self._tenant())
            self.locust_done.wait(max(self.started_at + end - time.time(), 0))
        finally:
            probe.set_fault(replica, None)
            if self.fault_on:
                self.fault_off = time.time()
        if self.fault_off is not None:
            self._watch_return(replica, self.fault_off)
        self.breaker_at_end = evidence.breaker_stats(self.callers, self.host)

    def _tenant(self) -> str:
        """The merchant whose users' payment pages the drill reads (the first the replay logs in to)."""
        return tenants.appids(self.settings.tenants)[0]

    def _watch_return(self, replica: str, fault_off: float) -> None:
        """Back when no caller ejects it and it has served since the fault was removed (probes once idle)."""
        served = probe.served(replica)
        deadline = fault_off + self.settings.recovery_s
        while time.time() < deadline:
            ejected = evidence.breaker_stats(self.callers, self.host)["outlier_detection_ejections_active"]
            if not ejected and probe.served(replica) > served:
                self.returned_after_s = time.time() - fault_off
                return
            if self.locust_done.is_set():
                # An unknown payment: 404 when healthy; enough for the replica's share to show.
                probe.calls(self.callers[0], self.host, "/payments/drill-probe", 10, tenant=self._tenant())
            time.sleep(1)


class Step(threading.Thread):
    """A step of the day on its own thread: it waits for the replayed day to begin, then for its moment in it."""

    def __init__(self, settings: LoadSettings, started: threading.Event) -> None:
        super().__init__(daemon=True)
        self.settings, self.started = settings, started
        self.locust_done = threading.Event()

    def reached(self, window: tuple[float, float] | None) -> bool:
        """Waits until the window's start (seconds into the day); False when there is none or the day ended first."""
        if window is None or not self.started.wait(timeout=120):
            return False
        return not self.locust_done.wait(window[0])  # the replayed day began when `started` was set, just now


class DatabaseFailover(Step):
    def __init__(self, settings: LoadSettings, started: threading.Event) -> None:
        super().__init__(settings, started)
        self.healthy_before: bool | None = None
        self.primary: str | None = None
        self.new_primary: str | None = None
        self.stopped_at: float | None = None
        self.promoted_after_s: float | None = None
        self.rejoined_after_s: float | None = None

    def run(self) -> None:
        if not self.reached(self.settings.db_failover_window):
            return
        self.healthy_before = probe.database_healthy()
        self.primary = probe.database_leader()
        if not self.healthy_before or self.primary is None:
            return
        self.stopped_at = time.time()
        try:
            self.promoted_after_s = probe.stop_primary(self.primary, self.settings.db_promotion_bound_s)
            self.new_primary = probe.database_leader(other_than=self.primary)
        finally:
            podman("start", self.primary)
        self.rejoined_after_s = probe.until(probe.database_healthy, self.settings.db_rejoin_bound_s)


class CrashRestart(Step):
    """At crash_at of the day, one replica's app container is killed with SIGKILL (as a segfault or the OOM
    killer would end it), and the kubelet stand-in's restart is timed until the app runs and is ready again."""

    def __init__(self, settings: LoadSettings, started: threading.Event) -> None:
        super().__init__(settings, started)
        self.container = probe.pod(settings.crash_replica).app_container
        self.killed_at: float | None = None
        self.serving_after_s: float | None = None
        self.termination: kubelet.Termination | None = None

    def run(self) -> None:
        if not self.reached(self.settings.crash_window):
            return
        before = probe.started(self.container)
        if not before.startswith("running"):
            return
        self.killed_at = time.time()
        podman("kill", "-s", "KILL", self.container)
        replica, bound = self.settings.crash_replica, self.settings.crash_restart_bound_s
        self.serving_after_s = probe.until(lambda: probe.ready_again(replica, before), bound)
        # The stand-in records the termination before it starts the container: found by the time it serves.
        ended = [t for t in kubelet.terminations(state.STATE_DIR, self.killed_at) if t.container == self.container]
        self.termination = ended[0] if ended else None


def _refresh_storm(callers: list[str], host: str, total: int, tenant: str) -> dict[int, int]:
    """`total` concurrent payment-page reads of one tenant's users, shared by the callers, from their pods through
    their sidecars."""
    n = max(total // len(callers), 1)

    def storm(caller: str) -> list[int]:
        return probe.calls(caller, host, "/payments/drill-storm", n, tenant=tenant, parallel=n)

    with ThreadPoolExecutor(len(callers)) as pool:
        answers = pool.map(storm, callers)
    return dict(Counter(code for codes in answers for code in codes))


def product_sample(
    settings: LoadSettings, sku: str, n: int, tag: str | None, callers: list[str], host: str, subsets: list[str]
) -> dict[str, int]:
    """Requests each subset completed for n product pages through the edge (tagged or not), on a quiet mesh."""
    before = evidence.completed(callers, host, subsets)
    headers = {"x-release-tag": tag} if tag else {}

    async def drive() -> None:
        async with httpx.AsyncClient(base_url=str(settings.target), timeout=10, headers=headers) as client:
            auth = await alogin(client, tenants.appids(settings.tenants)[0], f"code-canary-{time.time_ns()}")
            pending = iter(range(n))

            async def worker() -> None:
                for _ in pending:
                    await client.get(f"/api/products/{sku}", auth=auth)

            await asyncio.gather(*(worker() for _ in range(8)))

    asyncio.run(drive())
    after = evidence.completed(callers, host, subsets)
    return {s: after[s] - before[s] for s in subsets}
