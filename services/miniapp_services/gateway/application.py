"""Gateway use cases: login, the check of every signed request, and calls guarded by rate limits, breakers and
fallbacks (the proxying itself is in the interface layer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from miniapp_services.gateway import domain
from miniapp_services.gateway.degradation import Guard
from miniapp_services.gateway.domain import AuthError, Claim, Nonce, Reason, Session, SignedRequest, TenantRate
from miniapp_services.kit.errors import DomainError, TooManyRequests, Unavailable

T = TypeVar("T")
TENANT_RATE_LIMITED = "tenant_rate_limited"


class Fallback(StrEnum):
    """Why a guarded call was answered by its fallback (the miniapp_degraded_total metric's reason)."""

    OVER_RATE = "over_rate"
    BREAKER_OPEN = "breaker_open"
    CALL_FAILED = "call_failed"


class NonceStore(Protocol):
    async def claim(self, key: str, signed_at: int, keep_s: float, rate: TenantRate) -> Claim:
        """LIMITED (with the wait) when the tenant is over its rate, shared by every replica; else FRESH when the
        key was not in use (it is then held for keep_s seconds), SEEN when it was, UNKNOWN when the store's memory
        began after signed_at (Unix seconds)."""
        ...


def admit(
    authorization: str | None,
    appid: str | None,
    signature_headers: tuple[str | None, str | None, str | None],
    keys_of: Callable[[str], bytes | None],
    now: datetime,
    window_s: int,
) -> Session:
    """What the headers alone prove, before any body is read: a valid session token of a tenant served here, the
    request naming that tenant's appid, and a fresh, complete signature (timestamp, nonce, signature), whose
    value `verify` checks against the body."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthError(Reason.UNSIGNED, "send Authorization: Bearer <token> from /api/login")
    session = domain.read_token(authorization.removeprefix("Bearer "), keys_of, now)
    domain.check_signed_headers(*signature_headers, now, window_s)
    domain.check_tenant(session, appid)
    return session


async def verify(
    nonces: NonceStore,
    session: Session,
    request: SignedRequest,
    keys_of: Callable[[str], bytes | None],
    rate: TenantRate,
    now: datetime,
    window_s: int,
) -> Session:
    """An admitted request whose signature covers what arrived, within its tenant's rate, and whose nonce was
    never seen within the window."""
    secret = domain.tenant_key(keys_of, session.tenant)
    domain.check_request(domain.signing_key(secret, session.jti), request, now, window_s)
    signed_at = int(request.timestamp or 0)
    # Held for as long as the same request would still be accepted: until its timestamp leaves the window.
    keep_s = max(now.timestamp(), signed_at) + window_s - now.timestamp()
    claim = await nonces.claim(f"{session.jti}:{request.nonce}", signed_at, keep_s, rate)
    seen = claim.nonce
    if seen is Nonce.LIMITED:
        raise TooManyRequests(
            f"this mini-program is over its rate of {rate.per_s:g} requests/s: retry after the wait",
            claim.retry_after_s,
            reason=TENANT_RATE_LIMITED,
        )
    if seen is Nonce.SEEN:
        raise AuthError(Reason.REPLAYED, "this nonce was used already: sign each request with a new one")
    if seen is Nonce.UNKNOWN:
        raise AuthError(Reason.STALE, "the replay guard restarted after this request was signed: sign it again")
    return session


async def guarded(
    guard: Guard | None,
    clock: Callable[[], float],
    call: Callable[[], Awaitable[T]],
    fallback: Callable[[Fallback], Awaitable[T]],
) -> tuple[T, bool]:
    """The call's result, or the fallback's (told why) when the endpoint is over its rate, its breaker refuses
    the call or the call fails; says whether it degraded. The breaker counts every call that completed, with its
    time: an upstream's answer of a client error (4xx) is a completed call, not a failure. Without a rule the
    call runs as is."""
    if guard is None:
        return await call(), False
    started = clock()
    if not guard.bucket.take(started):
        return await fallback(Fallback.OVER_RATE), True
    if not guard.breaker.allow(started):
        return await fallback(Fallback.BREAKER_OPEN), True
    try:
        result = await call()
    except Unavailable:
        guard.breaker.record(False, started, clock())
        return await fallback(Fallback.CALL_FAILED), True
    except DomainError:
        guard.breaker.record(True, started, clock())
        raise
    except BaseException:
        guard.breaker.abandon(clock())
        raise
    guard.breaker.record(True, started, clock())
    return result, False
