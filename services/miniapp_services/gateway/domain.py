"""The gateway's sessions and request signatures.

A tenant is a merchant's mini-program, named by its appid, with keys of its own (gateway/tenants.py). A login
to one exchanges a code for an openid (code2session is the platform's call and cannot be reached here, so it is
simulated by an HMAC of the code under the tenant's platform secret) and opens a session: an HS256 JWT carrying
the openid and the tenant (tid), and a signing key derived from the token's id, both under the tenant's session
key, so the gateway keeps no session state and one merchant's keys open nothing of another's. Every later
request is checked here in a fixed order: signed at all, token well formed, algorithm HS256, the token's tenant
served here, token signature, issued-at and not-before (within a leeway for the clocks of the gateway's
replicas), expiry, the request's X-Appid that tenant, timestamp freshness (all from the headers, before any body
is read), then the request signature over the body. Each refusal carries a reason code. Nonce replay is checked
by the application layer.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from miniapp_services.kit import signing
from miniapp_services.kit.errors import Unauthorized

SESSION_TTL = timedelta(hours=2)
# How far in the future a token's iat or nbf may lie: the replicas' clocks differ by this much at most (NTP keeps
# them within milliseconds; a second is a fault), and RFC 7519 allows "a small leeway" for clock skew.
CLOCK_LEEWAY_S = 30
V = TypeVar("V")


class Reason(StrEnum):
    UNSIGNED = "unsigned"
    MALFORMED = "malformed"
    ALG_NONE = "alg_none"
    BAD_ALG = "bad_alg"
    WRONG_KEY = "wrong_key"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    STALE = "stale_timestamp"
    TAMPERED = "tampered"
    REPLAYED = "reused_nonce"
    UNKNOWN_TENANT = "unknown_tenant"
    TENANT_MISMATCH = "tenant_mismatch"


class Nonce(StrEnum):
    """What the replay guard says of a request's nonce."""

    FRESH = "fresh"  # never seen in the window: now held until the request can no longer be accepted
    SEEN = "seen"  # a replay
    UNKNOWN = "unknown"  # signed before the guard's memory begins (it restarted): cannot tell, so refused
    LIMITED = "limited"  # the tenant is over its rate: refused before the nonce is claimed, so it may come back


@dataclass(frozen=True)
class TenantRate:
    """A tenant's share of the gateway, for the service as a whole (every replica draws on one bucket): per_s
    requests a second on average, and up to burst of them at once."""

    tenant: str
    per_s: float
    burst: int


@dataclass(frozen=True)
class Claim:
    """The replay guard's and the tenant limiter's answer for one signed request; retry_after_s when LIMITED."""

    nonce: Nonce
    retry_after_s: float = 0.0


class AuthError(Unauthorized):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message, field="authorization", reason=reason.value)


@dataclass(frozen=True)
class Session:
    jti: str
    user_id: int
    openid: str
    expires_at: datetime
    tenant: str  # the appid of the merchant's mini-program the user logged in to


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


def open_session(user_id: int, openid: str, tenant: str, secret: bytes, now: datetime) -> tuple[str, str, Session]:
    """The session's token, its signing key, and what the token says; `secret` is the tenant's session key."""
    session = Session(secrets.token_hex(16), user_id, openid, now + SESSION_TTL, tenant)
    claims = {
        "sub": str(user_id),
        "openid": openid,
        "tid": tenant,
        "jti": session.jti,
        "iat": int(now.timestamp()),
        "exp": int(session.expires_at.timestamp()),
    }
    return signing.hs256_token(claims, secret), signing_key(secret, session.jti), session


def tenant_key(keys_of: Callable[[str], bytes | None], tenant: str) -> bytes:
    """The tenant's session key; 401 unknown_tenant when this gateway does not serve it (never, or no longer)."""
    key = keys_of(tenant)
    if key is None:
        raise AuthError(Reason.UNKNOWN_TENANT, "this mini-program (appid) is not served here: check its appid")
    return key


def check_tenant(session: Session, appid: str | None) -> None:
    """The request names the mini-program its session was opened for (X-Appid); a token of one merchant is
    refused with another's appid."""
    if appid != session.tenant:
        raise AuthError(
            Reason.TENANT_MISMATCH, "X-Appid differs from the mini-program this session was opened for: log in again"
        )


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
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


def read_token(token: str, keys_of: Callable[[str], bytes | None], now: datetime) -> Session:
    """The session a token carries, if this install signed it with HS256 under the session key of the tenant it
    names (its tid; an unknown or removed tenant is refused), it was issued by now and is valid from now (each
    within CLOCK_LEEWAY_S), and it has not expired."""
    header, claims, parts = _parts(token)
    alg = str(header.get("alg"))
    if alg.lower() == "none":
        raise AuthError(Reason.ALG_NONE, "unsigned tokens (alg none) are refused: log in again")
    if alg != "HS256":
        raise AuthError(Reason.BAD_ALG, f"token algorithm {alg!r} is refused; only HS256: log in again")
    tenant = str(claims.get("tid", ""))
    secret = tenant_key(keys_of, tenant)
    if not hmac.compare_digest(signing.sign(secret, f"{parts[0]}.{parts[1]}".encode()), parts[2]):
        raise AuthError(Reason.WRONG_KEY, "the token was not signed by this gateway: log in again")
    try:
        user_id, openid, jti = int(claims["sub"]), str(claims["openid"]), str(claims["jti"])
        iat, exp = _numeric_date(claims["iat"]), _numeric_date(claims["exp"])
        nbf = _numeric_date(claims["nbf"]) if "nbf" in claims else None
    except (KeyError, TypeError, ValueError):
        raise AuthError(
            Reason.MALFORMED, "the token lacks sub, openid, jti, iat or exp, or a date is not a number: log in again"
        ) from None
    _check_dates(iat, nbf, exp, now.timestamp())
    return Session(jti, user_id, openid, datetime.fromtimestamp(exp, now.tzinfo), tenant)


def _numeric_date(value: object) -> float:
    """RFC 7519's NumericDate: seconds since the epoch, a JSON number (not a string, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("a NumericDate is a JSON number")
    return float(value)


def _check_dates(iat: float, nbf: float | None, exp: float, now: float) -> None:
    if iat > now + CLOCK_LEEWAY_S:
        raise AuthError(
            Reason.ISSUED_IN_FUTURE,
            f"the token's iat is more than {CLOCK_LEEWAY_S} s ahead of the gateway's clock: log in again",
        )
    if nbf is not None and nbf > now + CLOCK_LEEWAY_S:
        raise AuthError(
            Reason.NOT_YET_VALID,
            f"the token is not valid before its nbf, more than {CLOCK_LEEWAY_S} s from now: retry then",
        )
    if now >= exp:
        raise AuthError(Reason.EXPIRED, "the session expired: log in again")


def check_signed_headers(
    timestamp: str | None, nonce: str | None, signature: str | None, now: datetime, window_s: int
) -> None:
    """The signature's headers are all there and the timestamp is within the window: what can be judged before
    the body is read."""
    if not (timestamp and nonce and signature):
        raise AuthError(
            Reason.UNSIGNED, f"sign the request: send {signing.TIMESTAMP}, {signing.NONCE} and {signing.SIGNATURE}"
        )
    if not timestamp.isdigit():
        raise AuthError(Reason.MALFORMED, f"{signing.TIMESTAMP} must be Unix seconds")
    if abs(now.timestamp() - int(timestamp)) > window_s:
        raise AuthError(Reason.STALE, f"{signing.TIMESTAMP} is more than {window_s} s from the gateway's clock")


def check_request(key: str, request: SignedRequest, now: datetime, window_s: int) -> None:
    """A signed request, sent within the window, whose signature covers exactly what arrived."""
    check_signed_headers(request.timestamp, request.nonce, request.signature, now, window_s)
    message = signing.canonical(
        request.method, request.path, request.timestamp or "", request.nonce or "", request.body
    )
    if not hmac.compare_digest(signing.sign(key.encode(), message), request.signature or ""):
        raise AuthError(Reason.TAMPERED, "the signature does not match the request: it was altered or signed wrongly")


class Lru(Generic[V]):
    """A bounded map that forgets the least recently used entry first (the fallbacks' caches)."""

    def __init__(self, size: int) -> None:
        self.size, self.items = size, OrderedDict[str, V]()

    def get(self, key: str) -> V | None:
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def put(self, key: str, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


# The response time a failed probe records (the design's "rt 999").
FAILED_RT_MS = 999


@dataclass(frozen=True)
class Health:
    """A probe's finding as the design writes it under /health/{svc}/{addr}: up or down, the response time in ms
    (FAILED_RT_MS when it failed), and when (Unix seconds). A value that does not decode reads as down."""

    status: str
    rt: int
    ts: int

    def encode(self) -> str:
        return json.dumps({"status": self.status, "rt": self.rt, "ts": self.ts})

    @classmethod
    def decode(cls, value: str) -> Health:
        try:
            found = json.loads(value)
            return cls(str(found["status"]), int(found["rt"]), int(found["ts"]))
        except (ValueError, TypeError, KeyError):
            return cls("down", FAILED_RT_MS, 0)


@dataclass
class Instances:
    """Design section 2.3, the gateway's view: instances registered under /services/{svc}/{addr} (value: their
    weight), their health under /health/{svc}/{addr}, and a weighted random pick among the healthy ones."""

    registered: dict[str, dict[str, int]] = field(default_factory=dict)
    health: dict[tuple[str, str], Health] = field(default_factory=dict)

    def apply(self, kind: str, key: str, value: str) -> None:
        parts = key.split("/")
        if len(parts) != 4 or parts[1] not in ("services", "health"):
            return
        _, prefix, service, addr = parts
        if prefix == "services":
            addrs = self.registered.setdefault(service, {})
            if kind == "DELETE":
                addrs.pop(addr, None)
            else:
                addrs[addr] = int(json.loads(value or "{}").get("weight", 100))
        elif kind == "DELETE":
            self.health.pop((service, addr), None)
        else:
            self.health[(service, addr)] = Health.decode(value)

    def healthy(self, service: str) -> dict[str, int]:
        return {a: w for a, w in self.registered.get(service, {}).items() if self._up(service, a)}

    def _up(self, service: str, addr: str) -> bool:
        found = self.health.get((service, addr))
        return found is not None and found.status == "up"

    def pick(self, service: str, draw: float) -> str | None:
        """The instance a draw in [0, 1) lands on, each taking a share of [0, 1) by its weight."""
        up = sorted(self.healthy(service).items())
        total = sum(w for _, w in up)
        point = draw * total
        for addr, weight in up:
            if point < weight:
                return addr
            point -= weight
        return None
