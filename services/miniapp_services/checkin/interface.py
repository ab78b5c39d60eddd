"""Check-in's edge: HTTP for the mini-program's 8am sign-in page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict

from miniapp_services.checkin import application as app_
from miniapp_services.checkin.infrastructure import SqlCheckInRepository as Repo
from miniapp_services.kit.app import connection
from miniapp_services.kit.types import EntityId, EntityIdPath


def today() -> date:
    """The service's day (UTC); a dependency so tests can move the clock."""
    return datetime.now(UTC).date()


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: EntityId


class CheckInOut(BaseModel):
    user_id: int
    day: date
    streak: int
    points: int


class HistoryOut(BaseModel):
    user_id: int
    days: list[date]
    streak: int


def router() -> APIRouter:
    api = APIRouter(tags=["checkin"])

    @api.post("/checkins", status_code=status.HTTP_201_CREATED)
    async def sign_in(body: CheckInIn, request: Request, day: Annotated[date, Depends(today)]) -> CheckInOut:
        async with connection(request) as conn:
            checkin = await app_.sign_in(Repo(conn), body.user_id, day)
        request.app.state.metrics.count("checkin")
        return CheckInOut(**vars(checkin))

    @api.get("/checkins/{user_id}")
    async def history(
        user_id: EntityIdPath,
        request: Request,
        day: Annotated[date, Depends(today)],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> HistoryOut:
        async with connection(request) as conn:
            found, streak = await app_.history(Repo(conn), user_id, day, days)
        return HistoryOut(user_id=user_id, days=found, streak=streak)

    return api
