"""The report: self-contained HTML (no script, no external reference) with the gate table and every plot."""

import re
import xml.etree.ElementTree as ET  # our own markup, parsed to check it is well formed

from load import plots, report

SVG = "{http://www.w3.org/2000/svg}"

RESULT = {
    "replay": "replaying 8,000,000 page views/day",
    "target": "http://127.0.0.1:18080/",
    "started": "2026-11-27T00:00:00+00:00",
    "machine": "lab (2 CPUs)",
    "duration_s": 95.0,
    "command": "python -m load.handover --smoke",
    "machine_load": {"busy_cores": 1.1, "steal_share": 0.02},
    "timeline": [{"hour": h, "rps": 10.0 + h, "failures_per_s": 0.1, "p50_ms": 100, "p99_ms": 400} for h in range(24)],
    "breaker_timeline": [{"hour": h, "ejections_active": int(19 < h < 21), "overflow": h, "ejections_enforced": 1} for h in range(24)],
    "fault_window_hours": [19.2, 21.6],
    "failover_window_hours": [9.5, 10.3],
    "gates": [
        {"name": "canary split", "passed": True, "summary": "v2 0.1 <inside>", "evaluated": True,
         "evidence": {"rows": [{"subset": "v1", "weight": 0.9, "k": 900, "n": 1000, "low": 0.88, "high": 0.92},
                               {"subset": "v2", "weight": 0.1, "k": 100, "n": 1000, "low": 0.08, "high": 0.12}]}},
        {"name": "memory budgets", "passed": False, "summary": "pay over", "evaluated": True,
         "evidence": {"pods": [{"pod": "pay-v1-0", "peak_mib": 170.0, "budget_mib": 160.0}]}},
        {"name": "journey SLOs", "passed": True, "summary": "ok", "evaluated": True,
         "evidence": {"journeys": [{"journey": "browse", "requests": 10, "error_rate": 0.0, "slo_error_rate": 0.01,
                                    "p50_ms": 100.0, "p99_ms": 300.0, "slo_p99_ms": 1500.0}]}},
        {"name": "circuit breaking", "passed": True, "summary": "ok", "evaluated": True,
         "evidence": {"ejections": 13, "overflow": 38}},
        {"name": "saga invariants", "passed": False, "summary": "not the lab", "evaluated": False, "evidence": {}},
    ],
}  # fmt: skip


def _texts(chart: str) -> list[str]:
    root = ET.fromstring(chart)  # noqa: S314
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def test_the_report_has_every_gate_and_plot_and_nothing_external() -> None:
    html = report.render(RESULT)
    assert "some gates fail: not ready for handover" in html
    assert html.count("<svg") == 6
    assert "&lt;inside&gt;" in html
    assert ">SKIP<" in html
    assert "machine over the run: 1.10 cores busy, 2.0% stolen by the hypervisor" in html
    # Only references inside the document (#ids of the SVG's own clip paths) are allowed.
    assert not re.search(r"<script|(?:src|href)=\"(?!#)|@import|url\((?!#)", html)
    assert "<?xml" not in html
    assert "<!DOCTYPE svg" not in html


def test_a_failing_gate_alone_decides_the_verdict() -> None:
    passing = RESULT | {"gates": [g | {"passed": True} for g in RESULT["gates"][:4]] + RESULT["gates"][4:]}
    assert "all gates pass" in report.render(passing)


def test_charts_are_well_formed_svg() -> None:
    for chart in report.charts(RESULT):
        assert ET.fromstring(chart).tag == f"{SVG}svg"  # noqa: S314


def test_tick_labels_are_plain_numbers_from_zero() -> None:
    chart = plots.line_chart("t", {"tiny": [(0, 0.000874), (24, 0.0011)], "big": [(0, 10), (24, 7480)]}, "h", "n")
    numbers = [t for t in _texts(chart) if re.fullmatch(r"[-\d.,\u2212]+", t)]
    assert numbers
    assert all(re.fullmatch(r"\d+(\.\d+)?", t) for t in numbers), numbers
    assert not any("e+" in t or "e-" in t for t in _texts(chart))
    assert {"0", "3", "24"} <= set(numbers)


def test_the_breaker_plot_shows_what_its_gate_judged() -> None:
    chart = next(c for c in report.charts(RESULT) if "Circuit breaker" in c)
    assert "13 ejections and 38 pool overflows" in " ".join(_texts(chart))
    assert "fault on" in _texts(chart)


def test_a_bar_beyond_its_reference_is_red_unless_it_is_an_interval() -> None:
    over = plots.bar_chart("m", [plots.Bar("pay", 170, 160)], "MiB", "budget")
    share = plots.bar_chart("c", [plots.Bar("v2", 0.2, 0.1, 0.15, 0.25)], "share", "weight")
    assert plots.OVER in over
    assert plots.OVER not in share


def test_empty_plots_say_so() -> None:
    assert "no data" in _texts(plots.line_chart("t", {}, "x", "y"))
    assert "no data" in _texts(plots.bar_chart("t", [], "MiB", "budget"))


def test_the_timelines_shade_both_drills_windows_with_their_names() -> None:
    legend = _texts(report.charts(RESULT)[0])
    assert "fault on" in legend
    assert "database failover" in legend
    without = _texts(report.charts(RESULT | {"failover_window_hours": None})[0])
    assert "database failover" not in without
