"""Notify's edges: HTTP to accept messages (202) and list them, and the background sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit import tenancy
from miniapp_services.kit.app import connection, in_transaction, on_connection
from miniapp_services.kit.types import EntityId, EntityIdQuery, Text
from miniapp_services.notify import application as app_
from miniapp_services.notify.domain import Notification, Status
from miniapp_services.notify.infrastructure import CHANNEL, LogOnlyProvider
from miniapp_services.notify.infrastructure import SqlOutbox as Repo

# New notifications wake the sender at once (LISTEN/NOTIFY); a round every RETRY_S picks up retries.
RETRY_S = 5.0
# A value of a notification's data: a merchant's notice filled in (gateway/tenant_config.py: NOTICE_MAX) fits.
DATA_VALUE_MAX = 1000
BATCH = 50
_log = logging.getLogger(__name__)


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: EntityId
    template: Text = Field(min_length=1, max_length=32)
    data: dict[Annotated[Text, Field(max_length=32)], Annotated[Text, Field(max_length=DATA_VALUE_MAX)]] = Field(
        max_length=10
    )


class NotificationOut(BaseModel):
    id: int
    user_id: int
    template: str
    data: dict[str, str]
    status: Status
    attempts: int
    last_error: str | None


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(**{**vars(n), "id": n.id or 0})


def router() -> APIRouter:
    api = APIRouter(tags=["notify"])

    @api.post("/notifications", status_code=status.HTTP_202_ACCEPTED)
    async def accept(body: NotificationIn, request: Request) -> NotificationOut:
        async with connection(request) as conn:
            return _out(await app_.enqueue(Repo(conn), body.user_id, body.template, body.data))

    @api.get("/notifications")
    async def recent(
        request: Request, user_id: EntityIdQuery, limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> list[NotificationOut]:
        async with connection(request) as conn:
            return [_out(n) for n in await app_.recent(Repo(conn), user_id, limit)]

    return api


async def _deliver_round(app: FastAPI, provider: LogOnlyProvider) -> bool:
    """One batch of each tenant with due notifications, under that tenant; whether any batch was full."""
    with tenancy.every():
        tenants = await on_connection(app, Repo, app_.tenants_due)
    full = False
    for tenant in tenants:
        with tenancy.serving(tenant):
            full |= await in_transaction(app, Repo, app_.deliver_due, provider, BATCH) == BATCH
    return full


async def sender(app: FastAPI) -> None:
    """Deliver due notifications until cancelled; a failed round is logged and retried next round."""
    provider, wake = LogOnlyProvider(), asyncio.Event()
    async with app.state.db.listening(CHANNEL, wake.set):
        while True:
            wake.clear()  # before the round: a notification arriving during it wakes the next one
            try:
                full = await _deliver_round(app, provider)
            except Exception:
                _log.exception("notification round failed")
                full = False
            if not full:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(RETRY_S):
                        await wake.wait()
