"""The handover report: one self-contained HTML file (inline SVG by matplotlib, inline CSS) and the same facts as JSON.

`render(result)` is pure: the result dictionary written by load.handover (gates, the Locust timeline, the
circuit-breaker and memory samples) in, HTML out.
"""

from __future__ import annotations

from html import escape
from typing import Any

from lab.machine import MachineLoad
from load.plots import Bar, Shades, bar_chart, line_chart

STYLE = """body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;font-size:13px;text-align:left}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}svg{margin:1em 0;max-width:100%;height:auto}"""


def _verdict(gate: dict[str, Any]) -> str:
    return ("PASS" if gate["passed"] else "FAIL") if gate.get("evaluated", True) else "SKIP"


def _gate_table(gates: list[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td class="{_verdict(g).lower()}">{_verdict(g)}</td>'
        f"<td>{escape(g['name'])}</td><td>{escape(g['summary'])}</td></tr>"
        for g in gates
    )
    return f"<table><tr><th>gate</th><th>check</th><th>evidence</th></tr>{rows}</table>"


def _journey_table(rows: list[dict[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{escape(r['journey'])}</td><td>{r['requests']}</td><td>{r['error_rate']:.2%} (≤ {r['slo_error_rate']:.2%})</td>"
        f"<td>{r['p50_ms']:.0f}</td><td>{r['p99_ms']:.0f} (≤ {r['slo_p99_ms']:.0f})</td></tr>"
        for r in rows
    )
    return (
        f"<table><tr><th>journey</th><th>requests</th><th>errors</th><th>p50 ms</th><th>p99 ms</th></tr>{body}</table>"
    )


def _tenant_table(rows: list[dict[str, Any]], seen: int) -> str:
    body = "".join(
        f"<tr><td>{escape(r['appid'])}</td><td>{r['rate_rps']:.2f}</td><td>{r['requests']}</td>"
        f"<td>{r['refused']}</td><td>{r['failed']}</td><td>{r['p99_ms']:.0f}</td></tr>"
        for r in rows
    )
    return (
        f"<p>{seen} tenants sent requests; the noisy neighbour first, then the {max(0, len(rows) - 1)} largest others.</p>"
        "<table><tr><th>tenant (appid)</th><th>req/s</th><th>requests</th><th>refused 429</th><th>failed</th>"
        f"<th>p99 ms</th></tr>{body}</table>"
    )


def _machine_load(load: dict[str, float] | None) -> str:
    """How busy the machine was over the run: latencies on a VM depend on it (lab.machine)."""
    if not load:
        return ""
    return f"<br>machine over the run: {escape(MachineLoad(**load).describe())}"


def _gate(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next((g["evidence"] for g in result["gates"] if g["name"] == name), {})


def _series(rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    return {label: [(r["hour"], r[key]) for r in rows] for key, label in names.items()}


def _breaker_chart(result: dict[str, Any], shades: Shades) -> str:
    judged = _gate(result, "circuit breaking")
    title = "Circuit breaker on the faulty service's callers"
    if judged:
        title += (
            f"\nthe gate counted {judged['ejections']} ejections and {judged['overflow']} pool overflows from fault on"
        )
    names = {
        "ejections_active": "ejections active",
        "ejections_enforced": "ejections since start",
        "overflow": "pool overflows since start",
    }
    series = _series(result.get("breaker_timeline", []), names)
    return line_chart(title, series, "replayed hour", "count", shades, steps=True)


def charts(result: dict[str, Any]) -> list[str]:
    """Every plot of the report, each showing the data its gate judged."""
    ticks = result["timeline"]
    fault, failover = result.get("fault_window_hours"), result.get("failover_window_hours")
    crash = result.get("crash_window_hours")
    shades = Shades(
        fault=(fault[0], fault[1]) if fault else None,
        failover=(failover[0], failover[1]) if failover else None,
        crash=(crash[0], crash[1]) if crash else None,
    )
    out = [
        line_chart("Requests and failures across the replayed day",
                   _series(ticks, {"rps": "requests/s", "failures_per_s": "failures/s"}),
                   "replayed hour", "per second", shades),
        line_chart("Response time across the replayed day", _series(ticks, {"p50_ms": "p50", "p99_ms": "p99"}),
                   "replayed hour", "ms", shades),
    ]  # fmt: skip
    journeys = _gate(result, "journey SLOs").get("journeys", [])
    if journeys:
        bars = [Bar(j["journey"], j["p99_ms"], j["slo_p99_ms"]) for j in journeys]
        out.append(bar_chart("p99 per journey against its objective", bars, "ms", "objective"))
    if result.get("breaker_timeline"):
        out.append(_breaker_chart(result, shades))
    canary = _gate(result, "canary split").get("rows", [])
    if canary:
        bars = [
            Bar(f"{r['subset']} (n={r['n']})", r["k"] / r["n"] if r["n"] else 0, r["weight"], r["low"], r["high"])
            for r in canary
        ]
        out.append(bar_chart("Canary share of requests", bars, "share of requests", "configured weight"))
    pods = _gate(result, "memory budgets").get("pods", [])
    if pods:
        bars = [Bar(p["pod"], p["peak_mib"], p["budget_mib"]) for p in pods]
        out.append(bar_chart("Peak working set per pod", bars, "MiB", "budget"))
    return out


def render(result: dict[str, Any]) -> str:
    passed = all(g["passed"] for g in result["gates"] if g.get("evaluated", True))
    verdict = "all gates pass" if passed else "some gates fail: not ready for handover"
    journeys = _gate(result, "journey SLOs").get("journeys", [])
    head = (
        f"<h1>Handover load report</h1><p><b>{escape(verdict)}</b></p>"
        f"<p>{escape(result['replay'])}<br>target {escape(result['target'])}; started {escape(result['started'])} "
        f"on {escape(result['machine'])}; {result['duration_s']:.0f} s; command <code>{escape(result['command'])}</code>"
        f"{_machine_load(result.get('machine_load'))}</p>"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Handover load report</title><style>{STYLE}</style></head>"
        f"<body>{head}<h2>Gates</h2>{_gate_table(result['gates'])}<h2>Journeys</h2>{_journey_table(journeys)}"
        f"<h2>Tenants</h2>{_tenant_table(result.get('tenants', []), result.get('tenants_seen', 0))}"
        f"<h2>Plots</h2>{''.join(charts(result))}</body></html>"
    )
