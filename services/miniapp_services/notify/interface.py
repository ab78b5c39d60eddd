"""Notify's edges: HTTP to accept messages (202) and list them, and the background sender."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import in_transaction, transaction
from miniapp_services.kit.types import EntityId
from miniapp_services.notify import application as app_
from miniapp_services.notify.domain import Notification, Status
from miniapp_services.notify.infrastructure import LogOnlyProvider
from miniapp_services.notify.infrastructure import SqlOutbox as Repo

SEND_INTERVAL_S = 0.2
BATCH = 50
_log = logging.getLogger(__name__)


class NotificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: EntityId
    template: str = Field(min_length=1, max_length=32)
    data: dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=200)]] = Field(max_length=10)


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
        async with transaction(request) as session:
            return _out(await app_.enqueue(Repo(session), body.user_id, body.template, body.data))

    @api.get("/notifications")
    async def recent(
        request: Request, user_id: Annotated[EntityId, Query()], limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> list[NotificationOut]:
        async with transaction(request) as session:
            return [_out(n) for n in await app_.recent(Repo(session), user_id, limit)]

    return api


async def sender(app: FastAPI) -> None:
    """Deliver due notifications until cancelled; a failed round is logged and retried next round."""
    provider = LogOnlyProvider()
    while True:
        try:
            tried = await in_transaction(app, Repo, app_.deliver_due, provider, BATCH)
        except Exception:
            _log.exception("notification round failed")
            tried = 0
        if tried < BATCH:
            await asyncio.sleep(SEND_INTERVAL_S)
