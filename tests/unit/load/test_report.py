"""The report: self-contained HTML (no script, no external reference) with the gate table and every plot."""

import re
import xml.etree.ElementTree as ET  # our own markup, parsed to check it is well formed

from load import report, svg

RESULT = {
    "replay": "replaying 8,000,000 page views/day",
    "target": "http://127.0.0.1:18080/",
    "started": "2026-11-27T00:00:00+00:00",
    "machine": "lab (2 CPUs)",
    "duration_s": 95.0,
    "command": "python -m load.handover --smoke",
    "timeline": [{"hour": h, "rps": 10.0 + h, "failures_per_s": 0.1, "p50_ms": 100, "p99_ms": 400} for h in range(24)],
    "breaker_timeline": [{"hour": h, "ejections_active": int(19 < h < 21), "overflow": h, "ejections_enforced": 1} for h in range(24)],
    "fault_window_hours": [19.2, 21.6],
    "gates": [
        {"name": "canary split", "passed": True, "summary": "v2 0.1 <inside>", "evaluated": True,
         "evidence": {"rows": [{"subset": "v1", "weight": 0.9, "k": 900, "n": 1000, "low": 0.88, "high": 0.92},
                               {"subset": "v2", "weight": 0.1, "k": 100, "n": 1000, "low": 0.08, "high": 0.12}]}},
        {"name": "memory budgets", "passed": False, "summary": "pay over", "evaluated": True,
         "evidence": {"pods": [{"pod": "pay-v1-0", "peak_mib": 170.0, "budget_mib": 160.0}]}},
        {"name": "journey SLOs", "passed": True, "summary": "ok", "evaluated": True,
         "evidence": {"journeys": [{"journey": "browse", "requests": 10, "error_rate": 0.0, "slo_error_rate": 0.01,
                                    "p50_ms": 100.0, "p99_ms": 300.0, "slo_p99_ms": 1500.0}]}},
        {"name": "saga invariants", "passed": False, "summary": "not the lab", "evaluated": False, "evidence": {}},
    ],
}  # fmt: skip


def test_the_report_has_every_gate_and_plot_and_nothing_external() -> None:
    html = report.render(RESULT)
    assert "some gates fail: not ready for handover" in html
    assert html.count("<svg") == 5
    assert "&lt;inside&gt;" in html
    assert ">SKIP<" in html
    assert not re.search(r"<script|src=|href=|@import|url\(", html)


def test_a_failing_gate_alone_decides_the_verdict() -> None:
    passing = RESULT | {"gates": [g | {"passed": True} for g in RESULT["gates"][:3]] + RESULT["gates"][3:]}
    assert "all gates pass" in report.render(passing)


def test_charts_are_well_formed_svg() -> None:
    for chart in report.charts(RESULT):
        assert ET.fromstring(chart).tag.endswith("svg")  # noqa: S314


def test_line_chart_scales_to_its_data_and_shades_the_window() -> None:
    chart = svg.line_chart("t", {"a": [(0, 0), (10, 5)]}, "x", "y", shade=(2, 4))
    root = ET.fromstring(chart)  # noqa: S314
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f".//{ns}rect") is not None
    assert root.find(f".//{ns}path").get("d").startswith("M0.0,")
    assert "no data" in svg.line_chart("t", {}, "x", "y")


def test_a_bar_beyond_its_reference_is_red_unless_it_is_an_interval() -> None:
    over = svg.bar_chart("m", [svg.Bar("pay", 170, 160)], "MiB")
    share = svg.bar_chart("c", [svg.Bar("v2", 0.2, 0.1, 0.15, 0.25)], "share")
    assert "#d62728" in over
    assert "#d62728" not in share
