"""Per-tenant figures: each Locust process's records merged, refusals told apart from failures, p99 per tenant, and
the report's rows (the noisy neighbour first)."""

from __future__ import annotations

from pathlib import Path

from load import per_tenant, report

A, B, NOISY = "wx00000000000000a1", "wx00000000000000b2", "wx00000000000000c3"


def test_processes_records_merge_into_each_tenants_figures(tmp_path: Path) -> None:
    first, second = per_tenant.Recorder(), per_tenant.Recorder()
    for ms in range(1, 101):
        (first if ms % 2 else second).record(A, float(ms), 200, False)
    first.record(NOISY, 3.0, 429, False)
    first.record(NOISY, 4.0, 200, False)
    second.record(B, 900.0, 503, True)
    (tmp_path / "tenants-1.json").write_text("{}")  # an earlier run's, cleared
    per_tenant.clear(tmp_path)
    first.write(tmp_path, 11)
    second.write(tmp_path, 12)
    per_tenant.Recorder().write(tmp_path, 13)  # a process that saw nothing writes nothing
    figures = per_tenant.merged(tmp_path, seconds=10)
    assert [f.appid for f in figures] == [A, NOISY, B]
    a = figures[0]
    assert (a.requests, a.refused, a.failed, a.rate_rps, a.p99_ms) == (100, 0, 0, 10.0, 99.0)
    assert (figures[1].refused, figures[1].failed) == (1, 0)
    assert (figures[2].refused, figures[2].failed) == (0, 1)
    assert [f.appid for f in per_tenant.shown(figures, NOISY, top=1)] == [NOISY, A]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tenants-11.json", "tenants-12.json"]


def test_the_report_shows_the_tenants_table() -> None:
    row = vars(per_tenant.TenantFigures(NOISY, 900, 716, 0, 10.0, 12.0))
    html = report._tenant_table([row], 199)
    assert "199 tenants sent requests" in html
    assert f"<td>{NOISY}</td><td>10.00</td><td>900</td><td>716</td><td>0</td><td>12</td>" in html
