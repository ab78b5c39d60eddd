"""The gateway's sessions: a mini-program login exchanges a code for an openid and a session.

code2session is the platform's call; it cannot be reached here, so the exchange is simulated by an
HMAC of the code under the install's own secret (stable per code, unguessable without the secret).
Only a hash of the session token is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from miniapp_services.kit.errors import Unauthorized

SESSION_TTL = timedelta(hours=2)


@dataclass(frozen=True)
class Session:
    token_hash: str
    user_id: int
    openid: str
    expires_at: datetime


def simulated_code2session(code: str, secret: bytes) -> str:
    return "o" + hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()[:27]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user_id: int, openid: str, now: datetime) -> tuple[str, Session]:
    """A new bearer token and the session stored for it."""
    token = secrets.token_urlsafe(32)
    return token, Session(token_hash(token), user_id, openid, now + SESSION_TTL)


def check_session(session: Session | None, now: datetime) -> Session:
    if session is None:
        raise Unauthorized("unknown session token: log in again", field="authorization")
    if now >= session.expires_at:
        raise Unauthorized("session expired: log in again", field="authorization")
    return session
