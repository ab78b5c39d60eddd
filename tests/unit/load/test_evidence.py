"""The handover's memory sampler against a scripted lab: a container that is killed, stays down and comes back in a
new cgroup; one running but unreadable; a sampler that dies. Its evidence must say so, and the gate must judge it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lab import cgroups
from lab.mesh import probe
from load import evidence, gates
from miniapp_services import invariants

MIB = gates.MIB
APP = probe.Container("pay-v1-1", "pay-v1-1-app", "/libpod_parent/libpod-a", 96 * MIB)
SIDECAR = probe.Container("pay-v1-1", "pay-v1-1-envoy", "/libpod_parent/libpod-b", 64 * MIB)


@dataclass
class ScriptedLab:
    """Per round, what each container is: ("up", cgroup, MiB, cpu s), ("gone",) running but unreadable,
    ("down", oom_killed). Containers not in a round's script are up in their first cgroup."""

    rounds: list[dict[str, tuple]]
    at: int = 0
    breaker_error: Exception | None = None
    cgroups: dict[str, str] = field(default_factory=dict)

    def now(self, name: str) -> tuple:
        return self.rounds[min(self.at, len(self.rounds) - 1)].get(name, ("up", None, 20, float(self.at)))

    def usage(self, c: probe.Container) -> cgroups.Usage:
        state = self.now(c.name)
        if state[0] != "up" or (state[1] or c.cgroup) != c.cgroup:
            raise FileNotFoundError(f"/sys/fs/cgroup{c.cgroup}/memory.current")
        return cgroups.Usage(state[2] * MIB, c.budget_bytes, state[3])

    def current(self, c: probe.Container) -> tuple[probe.Container | None, bool]:
        state = self.now(c.name)
        if state[0] == "down":
            return None, state[1]
        cgroup = state[1] if state[0] == "up" and state[1] else c.cgroup
        return probe.Container(c.pod, c.name, cgroup, c.budget_bytes), False

    def stats(self, name: str, pattern: str) -> dict[str, int]:
        if self.breaker_error:
            raise self.breaker_error
        return {}


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch) -> ScriptedLab:
    scripted = ScriptedLab(rounds=[{}])
    monkeypatch.setattr(probe, "containers", lambda: [APP, SIDECAR])
    monkeypatch.setattr(probe, "usage", scripted.usage)
    monkeypatch.setattr(probe, "current", scripted.current)
    monkeypatch.setattr(probe, "stats", scripted.stats)
    monkeypatch.setattr(probe, "stopped_or_oom_killed", lambda names: set())
    monkeypatch.setattr(probe, "oom_killed_since", lambda since: set())
    return scripted


def _run(lab: ScriptedLab, rounds: list[dict[str, tuple]], period_s: float = 1.0) -> evidence.Sampler:
    lab.rounds = rounds
    sampler = evidence.Sampler(["order-v1-0"], "pay.shop.svc.cluster.local", period_s=period_s)
    for lab.at in range(len(rounds)):
        sampler.sample(1000.0 + lab.at * period_s)
    return sampler


def _gate(sampler: evidence.Sampler, at: float | None) -> gates.Gate:
    return gates.memory_gate(sampler.memory_peaks(at), sampler.pod_peaks, sampler.failure)


def test_a_killed_container_is_followed_to_its_new_cgroup_and_its_downtime_reported(lab: ScriptedLab) -> None:
    up, down = ("up", None, 40, 5.0), ("down", False)
    sampler = _run(lab, [{"pay-v1-1-app": up}, {"pay-v1-1-app": down}, {"pay-v1-1-app": down},
                         {"pay-v1-1-app": ("up", "/libpod_parent/libpod-c", 70, 0.5)}])  # fmt: skip
    app = next(p for p in sampler.memory_peaks(1003.0) if p.container == "pay-v1-1-app")
    assert (app.restarts, app.down_s, app.unsampled_s, app.peak_bytes) == (1, 2.0, 0.0, 70 * MIB)
    assert sampler.watches[0].container.cgroup == "/libpod_parent/libpod-c"
    gate = _gate(sampler, 1003.0)
    assert gate.passed, gate.summary
    assert "restarted: pay-v1-1-app x1 (down 2 s)" in gate.summary


def test_an_oom_kill_fails_the_gate_though_the_container_runs_again(lab: ScriptedLab) -> None:
    sampler = _run(lab, [{}, {"pay-v1-1-app": ("down", True)}, {"pay-v1-1-app": ("up", "/libpod_parent/x", 30, 0.1)}])
    gate = _gate(sampler, 1002.0)
    assert not gate.passed
    assert "OOM-killed or stopped: pay-v1-1-app" in gate.summary


def test_an_oom_kill_the_kubelet_restarted_between_two_rounds_fails_the_gate(
    lab: ScriptedLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round saw it down (started again at once) and podman forgot the kill: the stand-in's record tells it."""
    sampler = _run(lab, [{"pay-v1-1-app": ("up", None, 30, 9.0)}, {"pay-v1-1-app": ("up", None, 30, 0.2)}])
    asked: list[float] = []
    monkeypatch.setattr(probe, "oom_killed_since", lambda since: asked.append(since) or {"pay-v1-1-app"})
    gate = _gate(sampler, 1001.0)
    assert asked == [sampler.began]
    assert not gate.passed
    assert "OOM-killed or stopped: pay-v1-1-app" in gate.summary


def test_a_restart_between_two_rounds_is_told_by_its_cpu_counter(lab: ScriptedLab) -> None:
    sampler = _run(lab, [{"pay-v1-1-app": ("up", None, 30, 9.0)}, {"pay-v1-1-app": ("up", None, 30, 0.2)}])
    assert [p.restarts for p in sampler.memory_peaks(1001.0)] == [1, 0]


def test_a_running_container_left_unread_is_evidence_missing(lab: ScriptedLab) -> None:
    sampler = _run(lab, [{}] + [{"pay-v1-1-envoy": ("gone",)}] * 8)
    gate = _gate(sampler, 1008.0)
    assert not gate.passed
    assert "evidence missing (unread > 5 s): pay-v1-1-envoy 8 s" in gate.summary


def test_a_stalled_round_counts_its_gap_once_as_unsampled_not_again_as_down(lab: ScriptedLab) -> None:
    """Rounds 1 and 2 are 30 s apart (the sampler stalled) while the app was down: those 30 s are evidence missing
    for every container, and the app's downtime is only what the rounds saw (the next second)."""
    lab.rounds = [{}, {"pay-v1-1-app": ("down", False)}, {"pay-v1-1-app": ("down", False)}, {}]
    sampler = evidence.Sampler(["order-v1-0"], "pay.shop.svc.cluster.local")
    for lab.at, at in enumerate((1000.0, 1030.0, 1031.0, 1032.0)):
        sampler.sample(at)
    app, sidecar = sampler.memory_peaks(1032.0)
    assert (app.down_s, app.unsampled_s, app.restarts) == (1.0, 30.0, 1)
    assert (sidecar.down_s, sidecar.unsampled_s) == (0.0, 30.0)


def test_a_sampler_that_died_fails_the_gate_with_its_reason(lab: ScriptedLab) -> None:
    lab.breaker_error = KeyError("outlier_detection_ejections_active")
    sampler = evidence.Sampler(["order-v1-0"], "pay.shop.svc.cluster.local", period_s=0.01)
    sampler.start()
    sampler.join(timeout=5)
    assert not sampler.is_alive()
    assert sampler.last_round is not None
    gate = _gate(sampler, sampler.last_round + 60)
    assert not gate.passed
    assert "sampler stopped: KeyError" in gate.summary
    assert "evidence missing (unread > 5 s): pay-v1-1-app 60 s, pay-v1-1-envoy 60 s" in gate.summary


@pytest.mark.usefixtures("lab")
def test_the_time_the_gates_take_after_sampling_ended_is_not_evidence_missing() -> None:
    """The handover stops the sampler when the replay is over and judges later: on a slow machine the gates before
    the memory gate took 21 s, and those seconds were once counted as every container unread."""
    sampler = evidence.Sampler(["order-v1-0"], "pay.shop.svc.cluster.local", period_s=0.01)
    sampler.start()
    probe.until(lambda: sampler.last_round, 5)
    sampler.stop()
    sampler.join(timeout=5)
    assert sampler.ended is not None
    ended = sampler.ended
    sampler.clock = lambda: ended + 21
    gate = _gate(sampler, None)
    assert gate.passed, gate.summary
    assert [p.unsampled_s for p in sampler.memory_peaks()] == [0.0, 0.0]


def test_a_sampler_that_died_long_before_it_was_stopped_misses_the_time_between(lab: ScriptedLab) -> None:
    sampler = _run(lab, [{}])  # its last round at 1000
    sampler.clock = lambda: 1040.0
    sampler.stop()
    assert [p.unsampled_s for p in sampler.memory_peaks()] == [40.0, 40.0]


def test_a_second_without_breaker_statistics_is_left_out_of_the_timeline(lab: ScriptedLab) -> None:
    lab.breaker_error = OSError("connection refused")
    sampler = _run(lab, [{}, {}])
    assert [s["breaker"] for s in sampler.samples] == [None, None]
    assert evidence.breaker_timeline(sampler.samples, lambda t: t) == []


def test_the_saga_invariants_wait_for_the_saga_and_come_from_one_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout in the saga on the first read, done on the second: the invariants of the second read only."""
    drift = "stock drift (reservation state disagrees with its order)"
    reads = iter([[f"{drift}|o-1 TEA", "checkouts still in the saga|o-1"], []])
    asked: list[str] = []
    monkeypatch.setattr(probe, "sql", lambda query: asked.append(query) or next(reads))
    monkeypatch.setattr(evidence.time, "sleep", lambda s: None)
    violations, unfinished = evidence.saga_invariants(wait_s=60)
    assert asked == [invariants.SNAPSHOT] * 2
    assert (violations[drift], unfinished) == ([], [])
