"""Locust's CSVs as the benchmark and the report read them: per-journey counts and p99 bound, the timeline."""

from pathlib import Path

from load import locust_stats

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Requests/s,50%,99%
GET,browse,900,9,120,30.0,120,800
PUT,browse,100,1,110,3.3,110,950
POST,checkin,50,0,150,1.7,150,400
,Aggregated,1050,10,120,35.0,120,900
"""
HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,99%,Total Request Count,Total Failure Count
100,10,,Aggregated,0.000000,0.000000,N/A,N/A,0,0
101,10,GET,browse,5.0,0.0,100,200,5,0
101,10,PUT,browse,1.0,0.0,100,200,1,0
103,12,GET,browse,5.0,1.0,100,200,15,2
103,12,PUT,browse,1.0,0.0,100,200,3,1
101,10,,Aggregated,10.0,1.0,100,300,10,1
102,12,,Aggregated,12.0,0.0,110,320,22,1
103,12,,Aggregated,12.0,2.0,110,320,34,3
"""


def test_journeys_add_counts_and_bound_p99_by_the_largest_row(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(STATS)
    browse, checkin, order = locust_stats.journeys(tmp_path / "s.csv", ("browse", "checkin", "order_pay"))
    assert (browse.requests, browse.failures, browse.p99_ms) == (1000, 10, 950)
    assert (checkin.requests, checkin.p99_ms) == (50, 400)
    assert (order.requests, order.failures) == (0, 0)


def test_timeline_keeps_the_aggregated_rows_and_reads_na_as_zero(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(HISTORY)
    ticks = locust_stats.timeline(tmp_path / "h.csv")
    assert [t.t for t in ticks] == [100, 101, 102, 103]
    assert ticks[0].p99_ms == 0.0
    assert ticks[2].rps == 12.0


def test_aggregated_is_the_whole_run(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(STATS)
    assert locust_stats.aggregated(tmp_path / "s.csv") == (1050, 10)
    assert locust_stats.rate(tmp_path / "s.csv") == 35.0


def test_the_429s_of_other_names_are_counted_and_a_names_rows_summed(tmp_path: Path) -> None:
    failures = tmp_path / "locust_failures.csv"
    failures.write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
        "GET,browse,CatchResponseError('GET /api/products answered 429'),3,a,b\n"
        "GET,flash_sale,CatchResponseError('GET /api/payments answered 503'),1,a,b\n"
        "GET,noisy_neighbour,CatchResponseError('GET /api/products answered 429'),9,a,b\n"
        "POST,checkin,CatchResponseError('POST /api/checkin answered 4290'),5,a,b\n"
    )
    assert locust_stats.answered(failures, 429, "noisy_neighbour") == 3
    stats = tmp_path / "locust_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count\n"
        "GET,noisy_neighbour limited,700,0\n"
        "GET,noisy_neighbour admitted,180,0\n"
        "POST,noisy_neighbour limited,16,1\n"
    )
    assert locust_stats.named(stats, "noisy_neighbour limited") == (716, 1)
