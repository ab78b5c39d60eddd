"""User use cases against the repository protocol."""

from __future__ import annotations

from typing import Protocol

from miniapp_services.kit.errors import NotFound
from miniapp_services.user.domain import User, new_user


class UserRepository(Protocol):
    async def by_id(self, user_id: int) -> User | None: ...
    async def by_openid(self, openid: str) -> User | None: ...
    async def add(self, user: User) -> User: ...


async def register(repo: UserRepository, openid: str, nickname: str) -> tuple[User, bool]:
    """The user of this openid, created if new; the flag says whether it was created."""
    existing = await repo.by_openid(openid)
    if existing is not None:
        return existing, False
    return await repo.add(new_user(openid, nickname)), True


async def get_user(repo: UserRepository, user_id: int) -> User:
    user = await repo.by_id(user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="id")
    return user


async def find_by_openid(repo: UserRepository, openid: str) -> User:
    user = await repo.by_openid(openid)
    if user is None:
        raise NotFound(f"no user with openid {openid!r}", field="openid")
    return user
