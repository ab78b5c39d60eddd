"""Users of the mini-program: one per platform openid, registered on first login."""

from __future__ import annotations

from dataclasses import dataclass

from miniapp_services.kit.errors import DomainError

NICKNAME_MAX = 32


@dataclass(frozen=True)
class User:
    id: int | None
    openid: str
    nickname: str


def new_user(openid: str, nickname: str) -> User:
    nickname = nickname.strip()
    if not 1 <= len(nickname) <= NICKNAME_MAX:
        raise DomainError(f"nickname must be 1 to {NICKNAME_MAX} characters after trimming", field="nickname")
    return User(id=None, openid=openid, nickname=nickname)
