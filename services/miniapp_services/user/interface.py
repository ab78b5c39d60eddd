"""User's edges: HTTP for the gateway's login, gRPC for services that show a user."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi import APIRouter, FastAPI, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.kit.app import connection, on_connection
from miniapp_services.kit.rpc import rpc
from miniapp_services.kit.types import EntityIdPath, Ident, IdentPath, Text
from miniapp_services.proto import user_pb2, user_pb2_grpc
from miniapp_services.user import application as app_
from miniapp_services.user.domain import NICKNAME_MAX, User
from miniapp_services.user.infrastructure import SqlUserRepository as Repo


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    openid: Ident
    nickname: Text = Field(min_length=1, max_length=NICKNAME_MAX)


class UserOut(BaseModel):
    id: int
    openid: str
    nickname: str


def _out(user: User) -> UserOut:
    return UserOut(id=user.id or 0, openid=user.openid, nickname=user.nickname)


def router() -> APIRouter:
    api = APIRouter(tags=["user"])

    @api.post(
        "/users",
        status_code=status.HTTP_201_CREATED,
        responses={200: {"description": "already registered", "model": UserOut}},
    )
    async def register(body: RegisterIn, request: Request, response: Response) -> UserOut:
        async with connection(request) as conn:
            user, created = await app_.register(Repo(conn), body.openid, body.nickname)
        if not created:
            response.status_code = status.HTTP_200_OK
        return _out(user)

    @api.get("/users/{user_id}")
    async def get_user(user_id: EntityIdPath, request: Request) -> UserOut:
        async with connection(request) as conn:
            return _out(await app_.get_user(Repo(conn), user_id))

    @api.get("/users/by-openid/{openid}")
    async def by_openid(openid: IdentPath, request: Request) -> UserOut:
        async with connection(request) as conn:
            return _out(await app_.find_by_openid(Repo(conn), openid))

    return api


def register_grpc(server: grpc.aio.Server, app: FastAPI) -> None:
    traced = rpc(app.state.metrics, app.state.tracer)

    class Servicer(user_pb2_grpc.UsersServicer):
        @traced
        async def GetUser(self, request: user_pb2.GetUserRequest, context: Any) -> user_pb2.User:
            user = await on_connection(app, Repo, app_.get_user, request.id)
            return user_pb2.User(id=user.id, openid=user.openid, nickname=user.nickname)

    user_pb2_grpc.add_UsersServicer_to_server(Servicer(), server)
