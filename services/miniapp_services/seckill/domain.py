"""Flash sales (the 9pm peak): a limited stock at a sale price, one unit per user, only while open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from miniapp_services.kit.errors import Conflict, DomainError


@dataclass(frozen=True)
class Event:
    event_id: str
    sku: str
    price_cents: int
    stock: int
    remaining: int
    starts_at: datetime
    ends_at: datetime


def new_event(event_id: str, sku: str, price_cents: int, stock: int, starts_at: datetime, ends_at: datetime) -> Event:
    if ends_at <= starts_at:
        raise DomainError("ends_at must be after starts_at", field="ends_at")
    return Event(event_id, sku, price_cents, stock, stock, starts_at, ends_at)


def check_open(event: Event, now: datetime) -> None:
    if now < event.starts_at:
        raise Conflict(f"flash sale {event.event_id} opens at {event.starts_at.isoformat()}", field="event_id")
    if now >= event.ends_at:
        raise Conflict(f"flash sale {event.event_id} ended at {event.ends_at.isoformat()}", field="event_id")
