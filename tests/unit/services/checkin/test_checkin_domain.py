from datetime import date, timedelta

import pytest

from miniapp_services.checkin.domain import check_in, reward, streak_ending

D = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("earlier", "streak"),
    [
        ([], 1),
        ([D - timedelta(days=1)], 2),
        ([D - timedelta(days=2)], 1),
        ([D - timedelta(days=i) for i in range(1, 9)], 9),
    ],
)
def test_streak_counts_consecutive_days_ending_today(earlier: list[date], streak: int) -> None:
    assert check_in(1, D, earlier).streak == streak


@pytest.mark.parametrize(("streak", "points"), [(0, 10), (1, 10), (3, 30), (7, 70), (30, 70)])
def test_reward_grows_then_caps_at_a_week(streak: int, points: int) -> None:
    assert reward(streak) == points


def test_no_check_in_today_means_no_streak() -> None:
    assert streak_ending([D - timedelta(days=1)], D) == 0
