"""Check-in use cases against the repository protocol."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from miniapp_services.checkin.domain import STREAK_CAP, CheckIn, check_in, streak_ending
from miniapp_services.kit.errors import Conflict


class CheckInRepository(Protocol):
    async def days(self, user_id: int, since: date) -> list[date]: ...
    async def add(self, checkin: CheckIn) -> bool: ...


async def sign_in(repo: CheckInRepository, user_id: int, today: date) -> CheckIn:
    """Record today's check-in; a second one on the same day is a conflict and changes nothing."""
    earlier = await repo.days(user_id, today - timedelta(days=STREAK_CAP * 5))
    checkin = check_in(user_id, today, [d for d in earlier if d < today])
    if today in earlier or not await repo.add(checkin):
        raise Conflict(f"user {user_id} already checked in on {today.isoformat()}", field="user_id")
    return checkin


async def history(repo: CheckInRepository, user_id: int, today: date, days: int) -> tuple[list[date], int]:
    """Check-in days in the last `days` days, newest first, and the streak ending today."""
    streak_days = await repo.days(user_id, today - timedelta(days=max(days, STREAK_CAP * 5)))
    since = today - timedelta(days=days - 1)
    return sorted((d for d in streak_days if d >= since), reverse=True), streak_ending(streak_days, today)
