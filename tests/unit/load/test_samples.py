"""Every request's record: each Locust process's file merged, a journey's p99 over all its methods (not the
bound from Locust's rows), and the requests that overlap a drill's window told apart, to the millisecond."""

from __future__ import annotations

from pathlib import Path

from load import handover, locust_stats, samples
from load.settings import Slo

SLOS = {"browse": Slo(p99_ms=300, max_error_rate=0.005), "checkin": Slo(p99_ms=300, max_error_rate=0.005)}


def _at(start: float, ms: int, name: str = "browse", failed: bool = False) -> samples.Sample:
    return samples.Sample(name, "wx00000000000000a1", start, ms, 503 if failed else 200, failed)


def test_processes_records_merge_by_start_and_an_earlier_runs_are_cleared(tmp_path: Path) -> None:
    first, second = samples.Recorder(), samples.Recorder()
    first.record(_at(102.0, 10))
    second.record(_at(101.0, 20, failed=True))
    (tmp_path / "requests-1.json").write_text("[]")
    samples.clear(tmp_path)
    first.write(tmp_path, 11)
    second.write(tmp_path, 12)
    samples.Recorder().write(tmp_path, 13)  # a process that saw nothing writes nothing
    assert samples.read(tmp_path) == [_at(101.0, 20, failed=True), _at(102.0, 10)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests-11.json", "requests-12.json"]


def test_a_journeys_p99_is_over_all_its_requests_where_locusts_rows_only_bound_it(tmp_path: Path) -> None:
    # 190 page reads at 10 ms and 10 cart writes, one of them at 900 ms: Locust's PUT row of 10 has its p99 at
    # its slowest; over the journey's 200 requests, 1 in 200 is 0.5 %, below the 1 % a p99 allows.
    seen = [_at(t, 10) for t in range(190)] + [_at(200 + t, 900 if t == 0 else 20) for t in range(10)]
    (browse, checkin) = samples.journeys(seen, ("browse", "checkin"))
    assert (browse.requests, browse.failures, browse.p50_ms, browse.p99_ms) == (200, 0, 10, 20)
    (tmp_path / "s.csv").write_text(
        "Type,Name,Request Count,Failure Count,50%,99%\nGET,browse,190,0,10,10\nPUT,browse,10,0,20,900\n"
    )
    assert locust_stats.journeys(tmp_path / "s.csv", ("browse",))[0].p99_ms == 900
    assert (checkin.requests, checkin.p99_ms) == (0, 0)
    assert samples.percentile([5] * 98 + [700, 800], 0.99) == 700


def test_a_request_is_inside_a_window_when_any_part_of_it_is() -> None:
    window = (100.0, 110.0)
    assert _at(99.5, 600).overlaps(window)  # sent before the fault went on, answered after
    assert _at(109.9, 200).overlaps(window)  # slowed by the fault, answered after its removal
    assert not _at(99.0, 1000).overlaps(window)  # answered the instant the fault went on
    assert not _at(110.0, 5).overlaps(window)
    seen = [_at(99.5, 600), _at(105, 5, failed=True), _at(111, 5)]
    assert samples.counts(samples.inside(seen, window)) == (2, 1)
    assert samples.partition(seen, [window, (0, 0)]) == ([_at(99.5, 600), _at(105, 5, failed=True)], [_at(111, 5)])


def test_the_slos_are_judged_outside_the_drills_which_the_scope_names_with_their_figures() -> None:
    calm = [_at(t, 10, name) for t in range(100) for name in SLOS]
    drilled = [_at(200 + t / 10, 450, "browse", failed=t < 3) for t in range(20)]
    common = {"samples": [*calm, *drilled, _at(205, 900, "login")]}
    whole = handover._slo_outside_drills(common, SLOS, [])
    assert not whole.passed
    gate = handover._slo_outside_drills(common, SLOS, [(200.0, 203.0)])
    assert gate.passed, gate.summary
    assert "browse p99 10 ms err 0.00%" in gate.summary
    assert "(20 requests overlapped them, 3 failed, p99 450 ms" in gate.summary
    slow_after = handover._slo_outside_drills({"samples": [*common["samples"], _at(300, 400), _at(301, 400)]},
                                              SLOS, [(200.0, 203.0)])  # fmt: skip
    assert not slow_after.passed
    assert "browse p99 400 ms (≤ 300)" in slow_after.summary
