"""The replay's tenants: the lab inventory's list, and a skewed pick (a few merchants large, a long tail)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from load import tenants


def test_the_lab_list_is_read_and_checked() -> None:
    found = tenants.appids()
    assert len(found) >= 200
    assert len(set(found)) == len(found)


def test_the_pick_favours_the_first_listed_and_reaches_the_tail() -> None:
    choices = tenants.appids()
    rng = random.Random(7)  # noqa: S311 - which merchant a simulated user visits, not a secret
    counts = Counter(tenants.pick(choices, rng) for _ in range(20_000))
    assert counts[choices[0]] > 5 * counts[choices[9]] > 0
    assert len(counts) > 150


def test_a_bad_list_is_refused_naming_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "tenants.yml"
    bad.write_text("services_tenants:\n  - {appid: nope, name: Tea}\n")
    with pytest.raises(ValueError, match=r"tenants.yml: services_tenants\[0\].appid: 'nope'"):
        tenants.appids(bad)
