"""Gateway use cases: login and session checks (the proxying is in the interface layer)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from miniapp_services.gateway import domain
from miniapp_services.gateway.domain import Session


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...
    async def get(self, token_hash: str) -> Session | None: ...


class UsersPort(Protocol):
    async def register(self, openid: str, nickname: str) -> int: ...


async def login(
    repo: SessionRepository, users: UsersPort, code: str, nickname: str, secret: bytes, now: datetime
) -> tuple[str, Session]:
    openid = domain.simulated_code2session(code, secret)
    user_id = await users.register(openid, nickname)
    token, session = domain.open_session(user_id, openid, now)
    await repo.add(session)
    return token, session


async def authenticate(repo: SessionRepository, token: str, now: datetime) -> Session:
    return domain.check_session(await repo.get(domain.token_hash(token)), now)
