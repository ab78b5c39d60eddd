"""Subscription messages: accepted at once, delivered later by the service's own sender (async).

Each template names the data it needs, as the mini-program platform's subscription templates do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from miniapp_services.kit.errors import DomainError

TEMPLATES: dict[str, frozenset[str]] = {
    "order_paid": frozenset({"order_id", "amount"}),
    "checkin_reminder": frozenset({"streak"}),
    "seckill_start": frozenset({"event_id", "starts_at"}),
    # The gateway's notice of an order accepted under overload: the merchant's template, filled in.
    "order_queued": frozenset({"order_id", "text"}),
}
MAX_ATTEMPTS = 5


class Status(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Notification:
    id: int | None
    user_id: int
    template: str
    data: dict[str, str]
    status: Status = Status.QUEUED
    attempts: int = 0
    last_error: str | None = None


def new_notification(user_id: int, template: str, data: dict[str, str]) -> Notification:
    if template not in TEMPLATES:
        raise DomainError(f"unknown template {template!r}; one of {sorted(TEMPLATES)}", field="template")
    missing = sorted(TEMPLATES[template] - data.keys())
    if missing:
        raise DomainError(f"template {template} needs data {missing}", field="data")
    return Notification(None, user_id, template, data)


def after_attempt(n: Notification, error: str | None) -> Notification:
    """The notification after one delivery attempt: sent, queued for a retry, or failed for good."""
    if error is None:
        return replace(n, status=Status.SENT, attempts=n.attempts + 1, last_error=None)
    attempts = n.attempts + 1
    status = Status.FAILED if attempts >= MAX_ATTEMPTS else Status.QUEUED
    return replace(n, status=status, attempts=attempts, last_error=error)
