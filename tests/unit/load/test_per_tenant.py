"""Per-tenant figures: every request's record grouped by tenant, refusals told apart from failures, p99 per
tenant, and the report's rows (the noisy neighbour first)."""

from __future__ import annotations

from load import per_tenant, report
from load.samples import Sample

A, B, NOISY = "wx00000000000000a1", "wx00000000000000b2", "wx00000000000000c3"


def test_each_tenants_figures_from_every_request() -> None:
    seen = [Sample("browse", A, 100.0 + ms, ms, 200, False) for ms in range(1, 101)]
    seen += [Sample("noisy", NOISY, 1.0, 3, 429, False), Sample("noisy", NOISY, 2.0, 4, 200, False)]
    seen += [Sample("order_pay", B, 3.0, 900, 503, True), Sample("unnamed", "", 4.0, 5, 200, False)]
    figures = per_tenant.merged(seen, seconds=10)
    assert [f.appid for f in figures] == [A, NOISY, B]
    a = figures[0]
    assert (a.requests, a.refused, a.failed, a.rate_rps, a.p99_ms) == (100, 0, 0, 10.0, 99.0)
    assert (figures[1].refused, figures[1].failed) == (1, 0)
    assert (figures[2].refused, figures[2].failed) == (0, 1)
    assert [f.appid for f in per_tenant.shown(figures, NOISY, top=1)] == [NOISY, A]


def test_the_report_shows_the_tenants_table() -> None:
    row = vars(per_tenant.TenantFigures(NOISY, 900, 716, 0, 10.0, 12.0))
    html = report._tenant_table([row], 199)
    assert "199 tenants sent requests" in html
    assert f"<td>{NOISY}</td><td>10.00</td><td>900</td><td>716</td><td>0</td><td>12</td>" in html
