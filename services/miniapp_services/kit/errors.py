"""Domain errors: raised by the domain and application layers, mapped to HTTP and gRPC codes at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `field` names the input at fault when there is one."""

    status = 400
    grpc_code = "INVALID_ARGUMENT"

    def __init__(self, message: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # a stable code clients can act on, where the domain defines one


class NotFound(DomainError):
    status = 404
    grpc_code = "NOT_FOUND"


class Unauthorized(DomainError):
    status = 401
    grpc_code = "UNAUTHENTICATED"


class Conflict(DomainError):
    status = 409
    grpc_code = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    """A dependency could not answer; the caller may retry or fall back."""

    status = 503
    grpc_code = "UNAVAILABLE"
