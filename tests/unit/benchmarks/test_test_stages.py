"""The stages section reports the last complete run only, and says whether it met the 45-minute target."""

import pytest

from benchmarks.test_stages import Row, last_run, section

ROWS = [
    Row("test lint", 10, "t0"),
    Row("molecule etcd_default", 5, "t1"),  # a run that failed before recording "test"
    Row("test lint", 11, "t2"),
    Row("test unit", 20, "t3"),
    Row("molecule etcd_default", 30, "t4"),
    Row("test molecule", 31, "t5"),
    Row("lab", 99, "t6"),  # make lab inside mesh-test records its own row
    Row("test", 3000, "t7"),
]


def test_the_last_complete_run_is_taken_from_its_first_stage():
    assert [row.at for row in last_run(ROWS)] == ["t2", "t3", "t4", "t5", "t7"]


def test_no_complete_run_names_the_fix():
    with pytest.raises(SystemExit, match="run `make test` first"):
        last_run(ROWS[:-1])


@pytest.mark.parametrize(("total", "verdict"), [(2700, "within"), (2701, "over")])
def test_the_total_is_judged_against_45_minutes(total, verdict):
    text = section([Row("test lint", 11, "t0"), Row("test", total, "t1")])
    assert f"{verdict} the 45 min target" in text
    assert "| test lint | 11 |" in text
