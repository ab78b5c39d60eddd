"""Notify's outbox table (schema "notify"), its repository, and the simulated provider."""

from __future__ import annotations

import logging

from asyncpg import Record
from sqlalchemy import BigInteger, Identity, Integer, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.kit.db import Connection
from miniapp_services.kit.isolation import Tenanted, check
from miniapp_services.notify.domain import Notification, Status

_log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(schema="notify")


class NotificationRow(Tenanted, Base):
    __tablename__ = "notification"
    __table_args__ = (check("notification"),)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    template: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(8), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))


# The sender LISTENs here; a new row NOTIFYs it at commit, so an idle sender does not poll.
CHANNEL = "notify_outbox"


def _notification(r: Record) -> Notification:
    return Notification(
        r["id"], r["user_id"], r["template"], dict(r["data"]), Status(r["status"]), r["attempts"], r["last_error"]
    )


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def add(self, n: Notification) -> Notification:
        row = await self.conn.fetchrow(
            """WITH added AS (INSERT INTO notify.notification (user_id, template, data, status, attempts)
            VALUES ($1, $2, $3, $4, 0) RETURNING id, user_id, template, data, status, attempts, last_error)
            SELECT added.*, pg_notify('notify_outbox', '') FROM added""",
            n.user_id,
            n.template,
            n.data,
            n.status.value,
        )
        if row is None:
            raise RuntimeError("INSERT ... RETURNING gave no row: the notify.notification table refused it silently")
        return _notification(row)

    async def tenants_due(self) -> list[str]:
        """The tenants with queued rows: read across tenants (tenancy.EVERY) by the sender."""
        rows = await self.conn.fetch("SELECT DISTINCT tenant FROM notify.notification WHERE status = 'queued'")
        return [row["tenant"] for row in rows]

    async def due(self, limit: int) -> list[Notification]:
        """Queued rows, oldest first, locked so that concurrent senders (replicas) never share one."""
        rows = await self.conn.fetch(
            """SELECT id, user_id, template, data, status, attempts, last_error FROM notify.notification
            WHERE status = 'queued' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
            limit,
        )
        return [_notification(r) for r in rows]

    async def save(self, n: Notification) -> None:
        await self.conn.execute(
            "UPDATE notify.notification SET status = $2, attempts = $3, last_error = $4 WHERE id = $1",
            n.id,
            n.status.value,
            n.attempts,
            (n.last_error or "")[:200] or None,
        )

    async def for_user(self, user_id: int, limit: int) -> list[Notification]:
        rows = await self.conn.fetch(
            """SELECT id, user_id, template, data, status, attempts, last_error FROM notify.notification
            WHERE user_id = $1 ORDER BY id DESC LIMIT $2""",
            user_id,
            limit,
        )
        return [_notification(r) for r in rows]


class LogOnlyProvider:
    """Stand-in for the platform's subscription-message API, which cannot be reached here: it logs the
    message as delivered. Sites plug their platform client in its place."""

    async def send(self, n: Notification) -> None:
        _log.info(
            "notification delivered", extra={"notification_id": n.id, "user_id": n.user_id, "template": n.template}
        )
