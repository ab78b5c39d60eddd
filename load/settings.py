"""Every setting of a handover run, in one model: the replay, the target, the fault drill and the gates.

Built by `load.handover.parse()` from the command line (python -m load.handover) and handed to the Locust
processes as JSON in MINIAPP_LOAD_SETTINGS, so the master, the workers and the gates read the same values.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from ansible_collections.miniapp.mesh.plugins.module_utils import journey_slos
from lab.mesh import EDGE_URL
from load import tenants, traffic

ENV = "MINIAPP_LOAD_SETTINGS"
# What the run seeded (load.journeys.Catalogue as JSON), for the Locust processes.
CATALOGUE_ENV = "MINIAPP_LOAD_CATALOGUE"


class Slo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p99_ms: float = Field(gt=0, description="99th percentile response time of the journey's requests")
    max_error_rate: float = Field(ge=0, le=1, description="failed requests / requests of the journey")


def _default_slos() -> dict[str, Slo]:
    """The journeys' objectives from their one definition, which the Prometheus rules are generated from."""
    return {s.journey: Slo(p99_ms=s.p99_ms, max_error_rate=s.max_error_rate) for s in journey_slos.SLOS}


class LoadSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    target: AnyHttpUrl = Field(default=AnyHttpUrl(EDGE_URL), description="the gateway's edge URL")
    lab: bool = Field(default=True, description="probe the lab's pods (faults, Envoy stats, cgroups, database)")
    day_s: float = Field(default=600, ge=20, description="seconds the replayed day lasts")
    peak_rps: float = Field(
        default=traffic.hourly_rate(traffic.peak_hour()),
        gt=0,
        description="requests/s at the replayed 9pm peak; the default is the design's own (scale 1.0)",
    )
    start_hour: float = Field(default=0, ge=0, lt=24, description="the hour of the day the replay begins at")
    user_rps: float = Field(default=0.5, gt=0, description="requests/s one simulated user makes")
    processes: int = Field(default=1, ge=1, description="Locust worker processes (master/workers when > 1)")
    out: Path = Field(default=Path(".cache/load"), description="where the report, JSON and Locust CSVs go")
    fault_replica: str = Field(default="pay-v1-0", description="the pod whose app gets the fault mid-run")
    fault_from: float = Field(default=0.80, ge=0, lt=1, description="fraction of the run when the fault starts")
    fault_until: float = Field(default=0.90, gt=0, le=1, description="fraction of the run when it is removed")
    fault_delay_ms: int = Field(default=200, ge=0, le=30_000, description="the faulty replica is slow, then fails")
    storm_requests: int = Field(default=64, ge=1, le=512, description="concurrent payment-page refreshes in the drill")
    max_fault_error_rate: float = Field(default=0.05, ge=0, le=1, description="client-visible, during the fault")
    recovery_s: float = Field(default=60, gt=0, description="bound for the faulty replica's return")
    db_failover_at: float | None = Field(
        default=0.40,
        ge=0,
        lt=1,
        description="fraction of the run when the database primary's host is stopped (None: no failover step)",
    )
    db_failover_window_s: float = Field(default=30, gt=0, description="seconds after the stop the failover gate judges")
    db_reconnect_bound_s: float = Field(
        default=10, gt=0, description="client errors must end this soon after the stop: the services reconnected"
    )
    db_promotion_bound_s: float = Field(default=30, gt=0, description="bound for another member to lead after the stop")
    db_rejoin_bound_s: float = Field(default=180, gt=0, description="bound for the stopped host to be a standby again")
    crash_replica: str = Field(default="pay-v1-1", description="the pod whose app container is killed (SIGKILL)")
    crash_at: float | None = Field(
        default=0.55, ge=0, lt=1, description="fraction of the run when it is killed (None: no crash-restart step)"
    )
    crash_window_s: float = Field(default=30, gt=0, description="seconds after the kill the crash gate judges")
    crash_restart_bound_s: float = Field(default=30, gt=0, description="bound for the app to run and be ready again")
    canary_service: str = Field(default="product")
    canary_min_sample: int = Field(default=1000, ge=100, description="requests split before the gate decides")
    tagged_sample: int = Field(default=200, ge=20, description="x-release-tag requests sent after the replay")
    slos: dict[str, Slo] = Field(default_factory=_default_slos)
    tenants: Path = Field(
        default=tenants.LAB_TENANTS,
        description="the inventory file listing the tenants (services_tenants) to log in to",
    )
    noisy_factor: float = Field(
        default=5, gt=1, le=50, description="the noisy neighbour is driven at this many times its rate limit"
    )
    noisy_min_limited: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="share of the noisy neighbour's requests that must be refused (at 5x its limit, about 0.8)",
    )

    @model_validator(mode="after")
    def _check(self) -> LoadSettings:
        if self.fault_until <= self.fault_from:
            raise ValueError("fault_until must be after fault_from: the fault is removed after it is injected")
        if self.db_reconnect_bound_s >= self.db_failover_window_s:
            raise ValueError("db_reconnect_bound_s must be shorter than db_failover_window_s, the span it is judged in")
        self._drills_apart()
        tenants.appids(self.tenants)  # a list that does not validate stops the run here, naming the entry
        if set(self.slos) != set(traffic.JOURNEYS):
            raise ValueError(f"slos must name exactly the journeys {sorted(traffic.JOURNEYS)}, got {sorted(self.slos)}")
        return self

    def _drills_apart(self) -> None:
        """Each drill's errors are judged alone: no drill's window may overlap another's."""
        windows = {"fault_from..fault_until": self.fault_window}
        if self.db_failover_window is not None:
            windows["db_failover_at (+ db_failover_window_s)"] = self.db_failover_window
        if self.crash_window is not None:
            windows["crash_at (+ crash_window_s)"] = self.crash_window
        ordered = sorted(windows.items(), key=lambda item: item[1])
        for (first, (_, end)), (second, (start, _)) in itertools.pairwise(ordered):
            if end > start:
                raise ValueError(f"{first} overlaps {second}: each drill's errors are judged alone, move one of them")

    @property
    def replay(self) -> traffic.Replay:
        return traffic.Replay(day_s=self.day_s, peak_rps=self.peak_rps, start_hour=self.start_hour)

    @property
    def fault_window(self) -> tuple[float, float]:
        return self.fault_from * self.day_s, self.fault_until * self.day_s

    @property
    def db_failover_window(self) -> tuple[float, float] | None:
        """Seconds into the run: the primary's host stopped, and the end of the span its errors are judged in."""
        if self.db_failover_at is None:
            return None
        return self.db_failover_at * self.day_s, self.db_failover_at * self.day_s + self.db_failover_window_s

    @property
    def crash_window(self) -> tuple[float, float] | None:
        """Seconds into the run: the app container killed, and the end of the span its errors are judged in."""
        if self.crash_at is None:
            return None
        return self.crash_at * self.day_s, self.crash_at * self.day_s + self.crash_window_s


def from_environment() -> LoadSettings:
    """The run's settings inside the Locust processes (set by load.handover); defaults when run bare."""
    raw = os.environ.get(ENV)
    return LoadSettings.model_validate_json(raw) if raw else LoadSettings()
