"""The memory benchmark's working set is the kubelet's: usage minus inactive page cache, never negative."""

import pytest
from services_memory import working_set

STAT = "cache 1000\nrss 500\ntotal_inactive_file 300\ntotal_active_file 200\n"


@pytest.mark.parametrize(("stat", "usage", "expected"), [(STAT, 2000, 1700), (STAT, 100, 0), ("rss 5\n", 900, 900)])
def test_working_set(stat: str, usage: int, expected: int) -> None:
    assert working_set(stat, usage) == expected
