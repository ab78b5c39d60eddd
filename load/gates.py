"""The handover gates: pure judgements of a run's evidence, each a pass/fail line with its figures.

Together they are the exit code of `python -m load.handover`. The evidence is gathered by load/evidence.py
(the lab's sidecars, cgroups and database) and Locust's statistics; nothing here reads the world.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from load.settings import Slo

MIB = 1024 * 1024


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    evaluated: bool = True  # False: the target gives no evidence for it (not the lab); not counted

    def line(self) -> str:
        verdict = ("PASS" if self.passed else "FAIL") if self.evaluated else "SKIP"
        return f"{verdict}  {self.name}: {self.summary}"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a share k/n (n > 0)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _split_check(weights: dict[str, int], counts: dict[str, int], min_sample: int) -> tuple[bool, list[dict[str, Any]]]:
    n = sum(counts.get(s, 0) for s in weights)
    total = sum(weights.values())
    rows: list[dict[str, Any]] = []
    for subset, weight in weights.items():
        k = counts.get(subset, 0)
        low, high = wilson(k, n) if n else (0.0, 1.0)
        rows.append({"subset": subset, "weight": weight / total, "k": k, "n": n, "low": low, "high": high})
    inside = all(r["low"] <= r["weight"] <= r["high"] for r in rows)
    return n >= min_sample and inside, rows


def canary_gate(
    weights: dict[str, int],
    counts: dict[str, int],
    min_sample: int,
    tagged: dict[str, int],
    canary: str,
    confirmation: dict[str, int] | None = None,
) -> Gate:
    """Each subset's share inside the 95 % Wilson interval of its weight over at least min_sample requests.

    A correct split misses a 95 % interval one run in twenty; a miss is judged once more on a fresh,
    independent confirmation sample (a correct split then fails one run in 400, a wrong one both times).
    Tagged requests must all reach the canary.
    """
    passed, rows = _split_check(weights, counts, min_sample)
    confirmed = None
    if not passed and confirmation is not None and rows[0]["n"] >= min_sample:
        passed, confirmed = _split_check(weights, confirmation, min_sample)
    tagged_total = sum(tagged.values())
    tagged_ok = tagged_total > 0 and tagged.get(canary, 0) == tagged_total
    n = rows[0]["n"] if rows else 0
    shares = ", ".join(f"{r['subset']} {r['k'] / n if n else 0:.3f} [{r['low']:.3f}, {r['high']:.3f}]" for r in rows)
    summary = (
        f"{shares} over n={n} (min {min_sample}); weights "
        + ", ".join(f"{r['subset']} {r['weight']:.2f}" for r in rows)
        + f"; tagged {tagged.get(canary, 0)}/{tagged_total} to {canary}"
        + (" (run sample missed, confirmation sample judged)" if confirmed else "")
    )
    evidence = {"rows": rows, "confirmation": confirmed, "tagged": tagged, "min_sample": min_sample}
    return Gate("canary split", passed and tagged_ok, summary, evidence)


# Time a container may go unread (a round racing its restart) before its memory evidence counts as missing.
MAX_UNSAMPLED_S = 5.0


@dataclass(frozen=True)
class MemoryPeak:
    pod: str
    container: str
    peak_bytes: int
    budget_bytes: int
    oom_killed: bool = False  # or stopped when sampling ended
    restarts: int = 0
    down_s: float = 0.0
    unsampled_s: float = 0.0  # running (or the sampler stalled) yet not read: evidence missing


def memory_gate(peaks: list[MemoryPeak], pod_peaks: dict[str, int], sampler_failure: str | None = None) -> Gate:
    """Every pod's peak working set within its budget (the sum of its containers' limits), none OOM-killed, on
    evidence with no gap longer than MAX_UNSAMPLED_S; restarts are reported with the time each container was down."""
    budgets: dict[str, int] = {}
    for p in peaks:
        budgets[p.pod] = budgets.get(p.pod, 0) + p.budget_bytes
    rows: list[dict[str, Any]] = [
        {"pod": pod, "peak_mib": pod_peaks.get(pod, 0) / MIB, "budget_mib": budget / MIB}
        for pod, budget in sorted(budgets.items())
    ]
    tightest = min(rows, key=lambda r: r["budget_mib"] - r["peak_mib"]) if rows else None
    summary = (
        f"{len(rows)} pods; least headroom {tightest['pod']} {tightest['peak_mib']:.1f} of {tightest['budget_mib']:.0f} MiB"
        if tightest
        else "no pods sampled"
    )
    restarted = [f"{p.container} x{p.restarts} (down {p.down_s:.0f} s)" for p in peaks if p.restarts]
    problems = _memory_problems(peaks, rows, sampler_failure)
    notes = [f"restarted: {', '.join(restarted)}"] * bool(restarted)
    passed = bool(rows) and not problems
    evidence = {"pods": rows, "containers": [asdict(p) for p in peaks if p.restarts or p.down_s or p.unsampled_s]}
    return Gate("memory budgets", passed, "; ".join([summary, *problems, *notes]), evidence)


def _memory_problems(peaks: list[MemoryPeak], rows: list[dict[str, Any]], sampler_failure: str | None) -> list[str]:
    over = [r["pod"] for r in rows if not 0 < r["peak_mib"] <= r["budget_mib"]]
    killed = sorted(p.container for p in peaks if p.oom_killed)
    unlimited = sorted(p.container for p in peaks if p.budget_bytes <= 0)
    missing = [f"{p.container} {p.unsampled_s:.0f} s" for p in peaks if p.unsampled_s > MAX_UNSAMPLED_S]
    found = {
        "over budget or unsampled": over,
        "OOM-killed or stopped": killed,
        "no memory limit": unlimited,
        f"evidence missing (unread > {MAX_UNSAMPLED_S:.0f} s)": missing,
        "sampler stopped": [sampler_failure] if sampler_failure else [],
    }
    return [f"{what}: {', '.join(items)}" for what, items in found.items() if items]


@dataclass(frozen=True)
class JourneyStats:
    journey: str
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float


def slo_gate(stats: list[JourneyStats], slos: dict[str, Slo], scope: str = "") -> Gate:
    """p99 and error rate of every journey within its objective; a journey without requests fails. ``scope``
    says which requests the error rates count, when not all."""
    by_name = {s.journey: s for s in stats}
    rows, bad = [], []
    for journey, slo in slos.items():
        s = by_name.get(journey, JourneyStats(journey, 0, 0, 0.0, 0.0))
        rate = s.failures / s.requests if s.requests else 1.0
        ok = s.requests > 0 and s.p99_ms <= slo.p99_ms and rate <= slo.max_error_rate
        rows.append(vars(s) | {"error_rate": rate, "slo_p99_ms": slo.p99_ms, "slo_error_rate": slo.max_error_rate})
        if not ok:
            bad.append(
                f"{journey} p99 {s.p99_ms:.0f} ms (≤ {slo.p99_ms:.0f}), errors {rate:.2%} (≤ {slo.max_error_rate:.2%}) over {s.requests}"
            )
    summary = (
        "; ".join(bad)
        if bad
        else ", ".join(f"{r['journey']} p99 {r['p99_ms']:.0f} ms err {r['error_rate']:.2%}" for r in rows)
    )
    return Gate("journey SLOs", not bad, summary + (f"; {scope}" if scope else ""), {"journeys": rows})


@dataclass(frozen=True)
class BreakerEvidence:
    ejections: int  # outlier ejections enforced on the faulty replica's callers during the run
    overflow: int  # requests refused by the callers' connection pools (pending or concurrent)
    fault_requests: int  # client requests while the fault was on
    fault_failures: int
    returned_after_s: float | None  # the replica back in rotation and serving, after the fault was removed
    recovery_bound_s: float
    max_error_rate: float
    storm: dict[int, int] = field(default_factory=dict)  # the drill's refresh storm, answers by status


def breaker_gate(e: BreakerEvidence) -> Gate:
    rate = e.fault_failures / e.fault_requests if e.fault_requests else 1.0
    checks = {
        "ejected": e.ejections > 0,
        "pool overflowed": e.overflow > 0,
        "clients shielded": e.fault_requests > 0 and rate <= e.max_error_rate,
        "recovered": e.returned_after_s is not None and e.returned_after_s <= e.recovery_bound_s,
    }
    returned = f"{e.returned_after_s:.1f} s" if e.returned_after_s is not None else "never"
    summary = (
        f"ejections {e.ejections}, pool overflows {e.overflow}, client errors during the fault {rate:.2%} "
        f"(≤ {e.max_error_rate:.2%}, n={e.fault_requests}), back in rotation after {returned} "
        f"(≤ {e.recovery_bound_s:.0f} s); refresh storm answers "
        + (", ".join(f"{code}: {count}" for code, count in sorted(e.storm.items())) or "none")
    )
    missing = [name for name, ok in checks.items() if not ok]
    return Gate("circuit breaking", not missing, summary + (f"; not {', '.join(missing)}" if missing else ""), vars(e))


@dataclass(frozen=True)
class FailoverEvidence:
    healthy_before: bool | None  # a leader and a synchronous standby when the step began; None: it never began
    primary: str | None  # the host stopped
    new_primary: str | None
    promoted_after_s: float | None  # another member led, after the stop
    promotion_bound_s: float
    window_requests: int  # client requests in the span after the stop the gate judges
    window_failures: int
    window_s: float
    last_failure_after_stop_s: float | None  # the last second of that span with a failed request
    reconnect_bound_s: float
    rejoined_after_s: float | None  # the pair healthy again, after the stopped host was started
    rejoin_bound_s: float


def failover_gate(e: FailoverEvidence) -> Gate:
    """A primary lost costs the writes (and reads) in flight until another member leads: what is judged is that
    the errors end soon after, by the services' own reconnecting, not their share of an arbitrary span."""
    rate = e.window_failures / e.window_requests if e.window_requests else 1.0
    last = e.last_failure_after_stop_s
    checks = {
        "started from a healthy pair": e.healthy_before is True,
        "promoted": e.promoted_after_s is not None and e.promoted_after_s <= e.promotion_bound_s,
        "reconnected": e.window_requests > 0 and (last is None or last <= e.reconnect_bound_s),
        "rejoined": e.rejoined_after_s is not None and e.rejoined_after_s <= e.rejoin_bound_s,
    }

    def seconds(value: float | None) -> str:
        return f"{value:.1f} s" if value is not None else "never"

    summary = (
        f"{e.primary or 'no primary'} stopped, {e.new_primary or 'no member'} leading after "
        f"{seconds(e.promoted_after_s)} (≤ {e.promotion_bound_s:.0f} s); client errors {e.window_failures} of "
        f"{e.window_requests} ({rate:.2%}) in the {e.window_s:.0f} s after the stop, the last "
        + (f"{last:.0f} s after it" if last is not None else "none")
        + f" (≤ {e.reconnect_bound_s:.0f} s); a healthy pair again {seconds(e.rejoined_after_s)} after the host's "
        f"start (≤ {e.rejoin_bound_s:.0f} s)"
    )
    missing = [name for name, ok in checks.items() if not ok]
    return Gate("database failover", not missing, summary + (f"; not {', '.join(missing)}" if missing else ""), vars(e))


@dataclass(frozen=True)
class CrashEvidence:
    """One replica's app container killed with SIGKILL mid-day, and what the kubelet stand-in made of it."""

    container: str
    killed: bool  # the kill was sent (not when the day ended first or the container was not running)
    exit_code: int | None  # the termination as the stand-in recorded it; None when it recorded none
    liveness: bool | None  # the stand-in stopped it for a failed liveness probe (then it is not this drill's)
    restart_in_s: float | None  # the back-off it waited before the start
    serving_after_s: float | None  # running again and ready, after the kill
    restart_bound_s: float
    window_requests: int  # client requests in the span after the kill the gate judges
    window_failures: int
    window_s: float
    max_error_rate: float


def crash_gate(e: CrashEvidence) -> Gate:
    """The most common fault in production: a process dies. The kubelet starts it again (a first crash at once,
    a later one after its back-off) and the callers' sidecars retry and eject around it meanwhile, so the clients
    barely notice. It must serve within the bound after its back-off."""
    rate = e.window_failures / e.window_requests if e.window_requests else 1.0
    # A container that crashed minutes before (make mesh-test's kill) is owed the kubelet's back-off first.
    bound = e.restart_bound_s + (e.restart_in_s or 0.0)
    checks = {
        "killed": e.killed,
        "restarted as a crash": e.exit_code == 137 and e.liveness is False and e.restart_in_s is not None,
        "serving again": e.serving_after_s is not None and e.serving_after_s <= bound,
        "clients shielded": e.window_requests > 0 and rate <= e.max_error_rate,
    }
    serving = f"{e.serving_after_s:.1f} s" if e.serving_after_s is not None else "never"
    restart = f"after {e.restart_in_s:.0f} s" if e.restart_in_s is not None else "never"
    summary = (
        f"{e.container} killed (SIGKILL): exit {e.exit_code if e.exit_code is not None else 'not recorded'}, "
        f"started again {restart}, serving {serving} after the kill (≤ {bound:.0f} s); client "
        f"errors {e.window_failures} of {e.window_requests} ({rate:.2%}, ≤ {e.max_error_rate:.2%}) in the "
        f"{e.window_s:.0f} s after it"
    )
    missing = [name for name, ok in checks.items() if not ok]
    return Gate("crash restart", not missing, summary + (f"; not {', '.join(missing)}" if missing else ""), vars(e))


def invariants_gate(violations: dict[str, list[str]], unfinished: list[str]) -> Gate:
    broken = {name: rows for name, rows in violations.items() if rows}
    summary = "; ".join(f"{name}: {len(rows)} ({', '.join(rows[:5])})" for name, rows in broken.items()) or (
        f"{len(violations)} invariants hold"
    )
    summary += f"; {len(unfinished)} checkouts still in the saga"
    return Gate(
        "saga invariants", not broken and not unfinished, summary, {"violations": violations, "unfinished": unfinished}
    )


@dataclass(frozen=True)
class NoisyEvidence:
    """The noisy neighbour's run: its requests by the gateway's answer, and the other tenants' refusals."""

    appid: str
    limit_rps: float
    burst: int
    factor: float
    seconds: float
    admitted: int
    limited: int
    failed: int
    others_refused: int  # requests of the other tenants answered 429


def noisy_gate(e: NoisyEvidence, min_limited: float) -> Gate:
    """Per-tenant limits hold under a burst: the noisy tenant, driven at factor times its limit, is refused (429)
    for at least min_limited of its requests and admitted no faster than its limit allows (one bucket for every
    replica: limit x seconds + burst, the seconds given a tenth more for the run's edges, as the user's requests
    run a little past the replayed day); no other tenant gets a single 429. The others' journeys are judged by the
    SLO gate."""
    sent = e.admitted + e.limited + e.failed
    share = e.limited / sent if sent else 0.0
    allowed = math.ceil(round(e.limit_rps * e.seconds * 1.1, 6)) + e.burst
    passed = sent > 0 and share >= min_limited and e.admitted <= allowed and e.others_refused == 0
    summary = (
        f"{e.appid} driven at {e.limit_rps * e.factor:g} req/s ({e.factor:g}x its {e.limit_rps:g}): {sent} sent,"
        f" {e.limited} refused 429 ({share:.0%}, >= {min_limited:.0%}), {e.admitted} admitted (<= {allowed}),"
        f" {e.failed} failed otherwise; other tenants refused 429: {e.others_refused}"
    )
    if not sent:
        summary = f"no evidence: the noisy neighbour {e.appid} sent nothing"
    return Gate("noisy neighbour", passed, summary, {"share_limited": share, "allowed": allowed, **vars(e)})
