"""Notify's outbox table (schema "notify"), its repository, and the simulated provider."""

from __future__ import annotations

import logging

from sqlalchemy import BigInteger, Identity, Integer, MetaData, String, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.notify.domain import Notification, Status

_log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(schema="notify")


class NotificationRow(Base):
    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    template: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(8), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))


def _notification(r: NotificationRow) -> Notification:
    return Notification(r.id, r.user_id, r.template, dict(r.data), Status(r.status), r.attempts, r.last_error)


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, n: Notification) -> Notification:
        row = NotificationRow(user_id=n.user_id, template=n.template, data=n.data, status=n.status.value, attempts=0)
        self.session.add(row)
        await self.session.flush()
        return _notification(row)

    async def due(self, limit: int) -> list[Notification]:
        """Queued rows, oldest first, locked so that concurrent senders (replicas) never share one."""
        query = (
            select(NotificationRow).where(NotificationRow.status == Status.QUEUED.value).order_by(NotificationRow.id)
        )
        rows = await self.session.execute(query.limit(limit).with_for_update(skip_locked=True))
        return [_notification(r) for r in rows.scalars()]

    async def save(self, n: Notification) -> None:
        values = {"status": n.status.value, "attempts": n.attempts, "last_error": (n.last_error or "")[:200] or None}
        await self.session.execute(update(NotificationRow).where(NotificationRow.id == n.id).values(**values))

    async def for_user(self, user_id: int, limit: int) -> list[Notification]:
        query = select(NotificationRow).where(NotificationRow.user_id == user_id).order_by(NotificationRow.id.desc())
        return [_notification(r) for r in (await self.session.execute(query.limit(limit))).scalars()]


class LogOnlyProvider:
    """Stand-in for the platform's subscription-message API, which cannot be reached here: it logs the
    message as delivered. Sites plug their platform client in its place."""

    async def send(self, n: Notification) -> None:
        _log.info(
            "notification delivered", extra={"notification_id": n.id, "user_id": n.user_id, "template": n.template}
        )
