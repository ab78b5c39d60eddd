"""The gateway's sessions and request signatures.

A mini-program login exchanges a code for an openid (code2session is the platform's call and cannot be
reached here, so it is simulated by an HMAC of the code under the install's own secret) and opens a
session: an HS256 JWT carrying the openid, and a signing key derived from the token's id under the same
secret, so the gateway keeps no session state. Every later request is checked here in a fixed order:
signed at all, token well formed, algorithm HS256, token signature, expiry, timestamp freshness, request
signature. Each refusal carries a reason code. Nonce replay is checked by the application layer.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from miniapp_services.kit import signing
from miniapp_services.kit.errors import Unauthorized

SESSION_TTL = timedelta(hours=2)


class Reason(StrEnum):
    UNSIGNED = "unsigned"
    MALFORMED = "malformed"
    ALG_NONE = "alg_none"
    BAD_ALG = "bad_alg"
    WRONG_KEY = "wrong_key"
    EXPIRED = "expired"
    STALE = "stale_timestamp"
    TAMPERED = "tampered"
    REPLAYED = "reused_nonce"


class AuthError(Unauthorized):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message, field="authorization", reason=reason.value)


@dataclass(frozen=True)
class Session:
    jti: str
    user_id: int
    openid: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # with its query string, as sent
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes


def simulated_code2session(code: str, secret: bytes) -> str:
    return "o" + hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()[:27]


def signing_key(secret: bytes, jti: str) -> str:
    return signing.b64url(hmac.new(secret, b"sign:" + jti.encode(), hashlib.sha256).digest())


def open_session(user_id: int, openid: str, secret: bytes, now: datetime) -> tuple[str, str, Session]:
    """The session's token, its signing key, and what the token says."""
    session = Session(secrets.token_hex(16), user_id, openid, now + SESSION_TTL)
    claims = {
        "sub": str(user_id),
        "openid": openid,
        "jti": session.jti,
        "iat": int(now.timestamp()),
        "exp": int(session.expires_at.timestamp()),
    }
    return signing.hs256_token(claims, secret), signing_key(secret, session.jti), session


def _parts(token: str) -> tuple[dict, dict, list[str]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError(Reason.MALFORMED, "the token is not a JWT (header.payload.signature): log in again")
    try:
        header, claims = (json.loads(signing.b64url_decode(p)) for p in parts[:2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AuthError(Reason.MALFORMED, "the token does not decode: log in again") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError(Reason.MALFORMED, "the token's header and claims must be JSON objects: log in again")
    return header, claims, parts


def read_token(token: str, secret: bytes, now: datetime) -> Session:
    """The session a token carries, if this install signed it with HS256 and it has not expired."""
    header, claims, parts = _parts(token)
    alg = str(header.get("alg"))
    if alg.lower() == "none":
        raise AuthError(Reason.ALG_NONE, "unsigned tokens (alg none) are refused: log in again")
    if alg != "HS256":
        raise AuthError(Reason.BAD_ALG, f"token algorithm {alg!r} is refused; only HS256: log in again")
    if not hmac.compare_digest(signing.sign(secret, f"{parts[0]}.{parts[1]}".encode()), parts[2]):
        raise AuthError(Reason.WRONG_KEY, "the token was not signed by this gateway: log in again")
    try:
        user_id, openid, jti, exp = int(claims["sub"]), str(claims["openid"]), str(claims["jti"]), int(claims["exp"])
    except (KeyError, TypeError, ValueError):
        raise AuthError(Reason.MALFORMED, "the token lacks sub, openid, jti or exp: log in again") from None
    if now.timestamp() >= exp:
        raise AuthError(Reason.EXPIRED, "the session expired: log in again")
    return Session(jti, user_id, openid, datetime.fromtimestamp(exp, now.tzinfo))


def check_request(key: str, request: SignedRequest, now: datetime, window_s: int) -> None:
    """A signed request, sent within the window, whose signature covers exactly what arrived."""
    if not (request.timestamp and request.nonce and request.signature):
        raise AuthError(
            Reason.UNSIGNED, f"sign the request: send {signing.TIMESTAMP}, {signing.NONCE} and {signing.SIGNATURE}"
        )
    if not request.timestamp.isdigit():
        raise AuthError(Reason.MALFORMED, f"{signing.TIMESTAMP} must be Unix seconds")
    if abs(now.timestamp() - int(request.timestamp)) > window_s:
        raise AuthError(Reason.STALE, f"{signing.TIMESTAMP} is more than {window_s} s from the gateway's clock")
    message = signing.canonical(request.method, request.path, request.timestamp, request.nonce, request.body)
    if not hmac.compare_digest(signing.sign(key.encode(), message), request.signature):
        raise AuthError(Reason.TAMPERED, "the signature does not match the request: it was altered or signed wrongly")
