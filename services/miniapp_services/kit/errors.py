"""Domain errors: raised by the domain and application layers, mapped to HTTP and gRPC codes at the edge."""

from __future__ import annotations

import math
from http import HTTPStatus


class DomainError(Exception):
    """A request the domain refuses; `field` names the input at fault when there is one."""

    status = 400
    grpc_code = "INVALID_ARGUMENT"

    def __init__(self, message: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # a stable code clients can act on, where the domain defines one

    def headers(self) -> dict[str, str]:
        """Response headers the refusal carries (none but where HTTP defines one)."""
        return {}


class NotFound(DomainError):
    status = 404
    grpc_code = "NOT_FOUND"


class Unauthorized(DomainError):
    status = 401
    grpc_code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    status = 403
    grpc_code = "PERMISSION_DENIED"


class Conflict(DomainError):
    status = 409
    grpc_code = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    """A dependency could not answer; the caller may retry or fall back."""

    status = 503
    grpc_code = "UNAVAILABLE"


class Degraded(Unavailable):
    """A degraded answer with nothing to give: it names the tenant's fallback page, when it has one, as a Link
    (RFC 8288) the mini-program shows instead."""

    def __init__(self, message: str, fallback_page: str | None) -> None:
        super().__init__(message, reason="degraded")
        self.fallback_page = fallback_page

    def headers(self) -> dict[str, str]:
        return {"link": f'<{self.fallback_page}>; rel="alternate"'} if self.fallback_page else {}


class TooManyRequests(DomainError):
    """Over a rate limit: refused before any work, with when to come back (RFC 9110 Retry-After, whole seconds)."""

    status = 429
    grpc_code = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, retry_after_s: float, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"retry-after": str(max(1, math.ceil(self.retry_after_s)))}


# The one body every refusal has, a domain refusal's {msg, field, reason} or the edge's one line, as OpenAPI
# documents it for the operations that can answer with it.
REFUSAL_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["msg"],
                    "properties": {
                        "msg": {"type": "string"},
                        "field": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
                {"type": "string"},
            ]
        }
    },
}


def refusals(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI responses for the refusals an operation can answer with (FastAPI's `responses`)."""
    body = {"application/json": {"schema": REFUSAL_SCHEMA}}
    return {status: {"description": HTTPStatus(status).phrase, "content": body} for status in statuses}
