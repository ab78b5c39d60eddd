"""The handover gates, table-driven: each passes on its good case and fails, saying why, on each bad one."""

from dataclasses import replace

import pytest

from load import gates
from load.settings import Slo

WEIGHTS = {"v1": 90, "v2": 10}


def test_wilson_interval_known_value() -> None:
    low, high = gates.wilson(100, 1000)
    assert (round(low, 4), round(high, 4)) == (0.0829, 0.1202)


@pytest.mark.parametrize(
    ("counts", "tagged", "confirmation", "passed", "says"),
    [
        ({"v1": 1800, "v2": 200}, {"v1": 0, "v2": 50}, None, True, "tagged 50/50"),
        ({"v1": 1900, "v2": 100}, {"v1": 0, "v2": 50}, None, False, "v2 0.050"),
        ({"v1": 1900, "v2": 100}, {"v1": 0, "v2": 50}, {"v1": 1795, "v2": 205}, True, "confirmation sample"),
        ({"v1": 1900, "v2": 100}, {"v1": 0, "v2": 50}, {"v1": 1900, "v2": 100}, False, "confirmation sample"),
        ({"v1": 180, "v2": 20}, {"v1": 0, "v2": 50}, None, False, "n=200 (min 1000)"),
        ({"v1": 1800, "v2": 200}, {"v1": 3, "v2": 47}, None, False, "tagged 47/50"),
        ({"v1": 1800, "v2": 200}, {"v1": 0, "v2": 0}, None, False, "tagged 0/0"),
    ],
)
def test_canary_gate(counts: dict, tagged: dict, confirmation: dict | None, passed: bool, says: str) -> None:
    gate = gates.canary_gate(WEIGHTS, counts, 1000, tagged, "v2", confirmation)
    assert gate.passed is passed
    assert says in gate.summary


def _peaks(app_mib: float, oom: bool = False) -> list[gates.MemoryPeak]:
    mib = gates.MIB
    return [gates.MemoryPeak("pay-v1-0", "pay-v1-0-app", int(app_mib * mib), 96 * mib, oom),
            gates.MemoryPeak("pay-v1-0", "pay-v1-0-envoy", 20 * mib, 64 * mib)]  # fmt: skip


@pytest.mark.parametrize(
    ("peaks", "pod_peak_mib", "passed", "says"),
    [
        (_peaks(70), 90, True, "least headroom pay-v1-0 90.0 of 160 MiB"),
        (_peaks(70), 161, False, "over budget or unsampled: pay-v1-0"),
        (_peaks(70), 0, False, "over budget or unsampled: pay-v1-0"),
        (_peaks(70, oom=True), 90, False, "OOM-killed or stopped: pay-v1-0-app"),
        ([], 0, False, "no pods sampled"),
    ],
)
def test_memory_gate(peaks: list, pod_peak_mib: float, passed: bool, says: str) -> None:
    gate = gates.memory_gate(peaks, {"pay-v1-0": int(pod_peak_mib * gates.MIB)})
    assert gate.passed is passed
    assert says in gate.summary


SLOS = {"browse": Slo(p99_ms=1000, max_error_rate=0.01), "checkin": Slo(p99_ms=1000, max_error_rate=0.01)}


@pytest.mark.parametrize(
    ("browse", "passed", "says"),
    [
        (gates.JourneyStats("browse", 1000, 5, 100, 900), True, "browse p99 900 ms err 0.50%"),
        (gates.JourneyStats("browse", 1000, 5, 100, 1100), False, "browse p99 1100 ms (≤ 1000)"),
        (gates.JourneyStats("browse", 1000, 20, 100, 900), False, "errors 2.00% (≤ 1.00%)"),
        (gates.JourneyStats("browse", 0, 0, 0, 0), False, "over 0"),
    ],
)
def test_slo_gate(browse: gates.JourneyStats, passed: bool, says: str) -> None:
    gate = gates.slo_gate([browse, gates.JourneyStats("checkin", 100, 0, 50, 200)], SLOS)
    assert gate.passed is passed
    assert says in gate.summary


def test_slo_gate_fails_a_journey_that_never_ran() -> None:
    gate = gates.slo_gate([gates.JourneyStats("browse", 1000, 0, 100, 200)], SLOS)
    assert not gate.passed
    assert "checkin" in gate.summary


GOOD = {"ejections": 2, "overflow": 5, "fault_requests": 1000, "fault_failures": 10, "returned_after_s": 16.0,
        "recovery_bound_s": 60, "max_error_rate": 0.05}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({}, None),
        ({"ejections": 0}, "ejected"),
        ({"overflow": 0}, "pool overflowed"),
        ({"fault_failures": 60}, "clients shielded"),
        ({"fault_requests": 0, "fault_failures": 0}, "clients shielded"),
        ({"returned_after_s": None}, "recovered"),
        ({"returned_after_s": 61.0}, "recovered"),
    ],
)
def test_breaker_gate(change: dict, missing: str | None) -> None:
    gate = gates.breaker_gate(gates.BreakerEvidence(**(GOOD | change)))
    assert gate.passed is (missing is None)
    if missing:
        assert f"not {missing}" in gate.summary


FAILOVER = {"healthy_before": True, "primary": "pg1", "new_primary": "pg2", "promoted_after_s": 3.0,
            "promotion_bound_s": 30, "window_requests": 400, "window_failures": 8, "window_s": 30,
            "last_failure_after_stop_s": 4.0, "reconnect_bound_s": 10, "rejoined_after_s": 12.0,
            "rejoin_bound_s": 180}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({}, None),
        ({"healthy_before": None, "primary": None, "new_primary": None, "promoted_after_s": None}, "started from"),
        ({"healthy_before": False}, "started from a healthy pair"),
        ({"promoted_after_s": None, "new_primary": None}, "promoted"),
        ({"promoted_after_s": 31.0}, "promoted"),
        ({"last_failure_after_stop_s": 11.0}, "reconnected"),
        ({"window_failures": 0, "last_failure_after_stop_s": None}, None),
        ({"window_requests": 0, "window_failures": 0, "last_failure_after_stop_s": None}, "reconnected"),
        ({"rejoined_after_s": None}, "rejoined"),
        ({"rejoined_after_s": 200.0}, "rejoined"),
    ],
)
def test_failover_gate(change: dict, missing: str | None) -> None:
    gate = gates.failover_gate(gates.FailoverEvidence(**(FAILOVER | change)))
    assert gate.passed is (missing is None)
    if missing:
        assert f"not {missing}" in gate.summary
    else:
        assert gate.summary.startswith("pg1 stopped, pg2 leading after 3.0 s (≤ 30 s); client errors ")


def test_the_failover_gate_says_when_the_errors_ended() -> None:
    summary = gates.failover_gate(gates.FailoverEvidence(**FAILOVER)).summary
    assert "client errors 8 of 400 (2.00%) in the 30 s after the stop, the last 4 s after it (≤ 10 s)" in summary


CRASH = {"container": "pay-v1-1-app", "killed": True, "exit_code": 137, "liveness": False, "restart_in_s": 0.0,
         "serving_after_s": 9.6, "restart_bound_s": 30.0, "window_requests": 400, "window_failures": 2,
         "window_s": 30.0, "max_error_rate": 0.05}  # fmt: skip


def test_a_second_crash_is_owed_its_back_off_before_the_bound() -> None:
    gate = gates.crash_gate(gates.CrashEvidence(**(CRASH | {"restart_in_s": 10.0, "serving_after_s": 19.4})))
    assert gate.passed, gate.summary
    assert "started again after 10 s, serving 19.4 s after the kill (≤ 40 s)" in gate.summary


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({}, None),
        ({"killed": False, "exit_code": None, "liveness": None, "restart_in_s": None}, "killed"),
        ({"exit_code": None, "liveness": None, "restart_in_s": None}, "restarted as a crash"),
        ({"liveness": True}, "restarted as a crash"),
        ({"exit_code": 0}, "restarted as a crash"),
        ({"serving_after_s": None}, "serving again"),
        ({"serving_after_s": 31.0}, "serving again"),
        ({"restart_in_s": 10.0, "serving_after_s": 41.0}, "serving again"),
        ({"window_failures": 21}, "clients shielded"),
        ({"window_requests": 0, "window_failures": 0}, "clients shielded"),
    ],
)
def test_crash_gate(change: dict, missing: str | None) -> None:
    """A crash the kubelet restarted and the callers hid passes; a missing kill, record, restart or traffic fails."""
    gate = gates.crash_gate(gates.CrashEvidence(**(CRASH | change)))
    assert gate.passed is (missing is None)
    if missing:
        assert f"not {missing}" in gate.summary
    else:
        assert gate.summary == (
            "pay-v1-1-app killed (SIGKILL): exit 137, started again after 0 s, serving 9.6 s after the kill "
            "(≤ 30 s); client errors 2 of 400 (0.50%, ≤ 5.00%) in the 30 s after it"
        )


def test_invariants_gate() -> None:
    holds = gates.invariants_gate({"orders lost": [], "double charges": []}, [])
    assert holds.passed
    assert "2 invariants hold" in holds.summary
    lost = gates.invariants_gate({"orders lost": ["o-1"], "double charges": []}, [])
    assert not lost.passed
    assert "orders lost: 1 (o-1)" in lost.summary
    assert not gates.invariants_gate({"orders lost": []}, ["o-2"]).passed


def test_gate_lines() -> None:
    assert gates.Gate("x", True, "fine").line() == "PASS  x: fine"
    assert gates.Gate("x", False, "bad").line() == "FAIL  x: bad"
    assert gates.Gate("x", False, "no lab", evaluated=False).line() == "SKIP  x: no lab"


def _noisy(**changes: object) -> gates.NoisyEvidence:
    base = gates.NoisyEvidence(appid="wx00000000000000c3", limit_rps=2, burst=4, factor=5, seconds=90,
                               admitted=184, limited=716, failed=0, others_refused=0)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("evidence", "passed", "says"),
    [
        (_noisy(), True, "716 refused 429 (80%, >= 50%), 184 admitted (<= 202)"),
        (_noisy(admitted=600, limited=300), False, "600 admitted (<= 202)"),
        (_noisy(admitted=850, limited=50), False, "50 refused 429 (6%, >= 50%)"),
        (_noisy(others_refused=3), False, "other tenants refused 429: 3"),
        (_noisy(admitted=0, limited=0), False, "no evidence: the noisy neighbour wx00000000000000c3 sent nothing"),
    ],
)
def test_noisy_neighbour_gate(evidence: gates.NoisyEvidence, passed: bool, says: str) -> None:
    gate = gates.noisy_gate(evidence, 0.5)
    assert gate.passed is passed
    assert says in gate.summary
