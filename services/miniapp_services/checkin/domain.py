"""Daily check-in (sign-in): one per user and day, a streak, and points that grow with the streak."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

POINTS_PER_DAY = 10
STREAK_CAP = 7


@dataclass(frozen=True)
class CheckIn:
    user_id: int
    day: date
    streak: int
    points: int


def streak_ending(days: Iterable[date], today: date) -> int:
    """How many consecutive days, ending today, are in days."""
    seen, streak = set(days), 0
    while today - timedelta(days=streak) in seen:
        streak += 1
    return streak


def reward(streak: int) -> int:
    """Points for a check-in on the streak's n-th day: 10 per day of streak, capped at a week."""
    return POINTS_PER_DAY * min(max(streak, 1), STREAK_CAP)


def check_in(user_id: int, today: date, earlier_days: Iterable[date]) -> CheckIn:
    streak = streak_ending([*earlier_days, today], today)
    return CheckIn(user_id, today, streak, reward(streak))
