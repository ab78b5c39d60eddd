"""Flash-sale use cases against the repository protocol."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from miniapp_services.kit.errors import Conflict, NotFound
from miniapp_services.seckill import domain
from miniapp_services.seckill.domain import Event


class SeckillRepository(Protocol):
    async def get(self, event_id: str) -> Event | None: ...
    async def create(self, event: Event) -> bool: ...
    async def claim(self, event_id: str, user_id: int, now: datetime) -> Literal["taken", "already", "none_left"]: ...


async def create_event(repo: SeckillRepository, event: Event) -> Event:
    if not await repo.create(event):
        raise Conflict(f"flash sale {event.event_id} exists already; events are not edited", field="event_id")
    return event


async def get_event(repo: SeckillRepository, event_id: str) -> Event:
    event = await repo.get(event_id)
    if event is None:
        raise NotFound(f"no flash sale {event_id!r}", field="event_id")
    return event


async def attempt(repo: SeckillRepository, event_id: str, user_id: int, now: datetime) -> Event:
    """One user's try at one unit; at most one win per user, never more wins than stock."""
    domain.check_open(await get_event(repo, event_id), now)
    outcome = await repo.claim(event_id, user_id, now)
    if outcome == "already":
        raise Conflict(f"user {user_id} already won flash sale {event_id}", field="user_id")
    if outcome == "none_left":
        raise Conflict(f"flash sale {event_id} is sold out", field="event_id")
    return await get_event(repo, event_id)
