"""Notify's use cases: accept now, deliver in batches from the outbox table."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.notify.domain import Notification, after_attempt, new_notification


class Outbox(Protocol):
    async def add(self, notification: Notification) -> Notification: ...
    async def tenants_due(self) -> list[str]: ...
    async def due(self, limit: int) -> list[Notification]: ...
    async def save(self, notification: Notification) -> None: ...
    async def for_user(self, user_id: int, limit: int) -> list[Notification]: ...


class Provider(Protocol):
    async def send(self, notification: Notification) -> None: ...


async def enqueue(outbox: Outbox, user_id: int, template: str, data: dict[str, str]) -> Notification:
    return await outbox.add(new_notification(user_id, template, data))


async def tenants_due(outbox: Outbox) -> list[str]:
    return await outbox.tenants_due()


async def deliver_due(outbox: Outbox, provider: Provider, limit: int) -> int:
    """Try each due notification once; returns how many were tried. Other senders skip these rows."""
    due = await outbox.due(limit)
    for notification in due:
        try:
            await provider.send(notification)
            error = None
        except Exception as err:  # a provider failure is recorded on the row and retried
            error = f"{type(err).__name__}: {err}"
        await outbox.save(after_attempt(notification, error))
    return len(due)


async def recent(outbox: Outbox, user_id: int, limit: int) -> list[Notification]:
    return await outbox.for_user(user_id, limit)
