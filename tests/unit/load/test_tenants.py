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


def test_the_noisy_neighbour_is_the_tenant_with_the_lowest_configured_limit_and_no_journey_picks_it(
    tmp_path: Path,
) -> None:
    listed = tmp_path / "tenants.yml"
    listed.write_text(
        "services_tenants:\n"
        "  - {appid: wx00000000000000a1, name: Tea}\n"
        "  - {appid: wx00000000000000b2, name: Noodles, config: {rate_limit_rps: 20}}\n"
        "  - {appid: wx00000000000000c3, name: Bakery, config: {rate_limit_rps: 2.5}}\n"
    )
    assert tenants.noisy(listed) == tenants.Noisy("wx00000000000000c3", 2.5, 3)
    assert tenants.journey_appids(listed) == ("wx00000000000000a1", "wx00000000000000b2")
    lab = tenants.noisy()
    assert lab is not None
    assert lab.appid not in tenants.journey_appids()


def test_without_a_configured_limit_there_is_no_noisy_neighbour(tmp_path: Path) -> None:
    listed = tmp_path / "tenants.yml"
    listed.write_text("services_tenants:\n  - {appid: wx00000000000000a1, name: Tea}\n")
    assert tenants.noisy(listed) is None
    assert tenants.journey_appids(listed) == ("wx00000000000000a1",)
