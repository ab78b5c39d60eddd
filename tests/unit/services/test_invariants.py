"""The saga's invariants are read with the checkouts still in the saga in one statement (one snapshot): read
apart, a checkout that left the saga between the two reads was reported as stock drift and as finished (a
fresh-clone CI's kill test failed so)."""

from __future__ import annotations

import pytest

from miniapp_services import invariants


def test_every_invariant_and_the_unfinished_checkouts_are_one_statement() -> None:
    assert ";" not in invariants.SNAPSHOT
    assert invariants.SNAPSHOT.count(" union all ") == len(invariants.VIOLATIONS)
    for name in invariants.VIOLATIONS:
        assert f"select '{name}' as invariant" in invariants.SNAPSHOT


@pytest.mark.parametrize("name", list(invariants.VIOLATIONS))
def test_a_name_is_safe_as_a_literal_and_in_psql_output(name: str) -> None:
    assert "'" not in name
    assert "|" not in name


def test_rows_are_split_by_invariant_and_unfinished() -> None:
    drift = "stock drift (reservation state disagrees with its order)"
    found, unfinished = invariants.split([(drift, "o-1 TEA"), ("checkouts still in the saga", "o-1")])
    assert found[drift] == ["o-1 TEA"]
    assert unfinished == ["o-1"]
    assert set(found) == set(invariants.VIOLATIONS)
    assert not any(rows for name, rows in found.items() if name != drift)
