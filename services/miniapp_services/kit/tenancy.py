"""The tenant a request is served for (a merchant's mini-program, named by its appid), carried hop by hop and
made the database's row-level security scope.

The gateway names it from the verified session, never from what the client sent; it travels onwards as the
`x-miniapp-tenant` header and gRPC metadata, which only the mesh's own peers can send (STRICT mTLS and each
service's AuthorizationPolicy). Every other service takes it from there. The database sees it as the
transaction-local setting `app.tenant`, which every business table's policy compares with the row's tenant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Annotated

from pydantic import StringConstraints

from miniapp_services.kit.errors import DomainError

APPID_PATTERN = r"^wx[0-9a-f]{16}$"
Appid = Annotated[str, StringConstraints(pattern=APPID_PATTERN)]
HEADER = "x-miniapp-tenant"
# The setting the tables' policies read; set per transaction only (set_config(..., true)).
SETTING = "app.tenant"
# What a background job reads under when it looks across tenants for work (read-only: it acts on each row under
# the row's own tenant). Never an appid, so no request can name it.
EVERY = "*"
_APPID = re.compile(APPID_PATTERN)
current: ContextVar[str | None] = ContextVar("current_tenant", default=None)


def checked(value: str | None) -> str:
    """An appid as the header carries it; a DomainError (400) naming the header otherwise."""
    if value is None:
        raise DomainError(f"{HEADER}: required; the gateway names the session's tenant (a merchant's appid)")
    if not _APPID.fullmatch(value):
        raise DomainError(f"{HEADER}: {value[:40]!r} is not an appid (wx and 16 hex digits)", field=HEADER)
    return value


def serving(tenant: str | None) -> AbstractContextManager[None]:
    """Run the block for tenant: its database work and its calls onwards are that tenant's. Anything but an appid
    (EVERY included: a caller cannot name it) raises checked's DomainError before the block runs."""
    return _scoped(checked(tenant))


def every() -> AbstractContextManager[None]:
    """Run a job's look across tenants: the tables it scans let it read every row and write none."""
    return _scoped(EVERY)


@contextmanager
def _scoped(value: str) -> Iterator[None]:
    token = current.set(value)
    try:
        yield
    finally:
        current.reset(token)


def scope_sql(tenant: str) -> str:
    """The statement that opens a transaction scoped to tenant: one round trip for BEGIN and the setting.

    The value goes into the text because set_config's bind parameter would cost a round trip of its own; it is an
    appid (checked against its pattern here again) or EVERY, so nothing else can reach the SQL.
    """
    if tenant != EVERY:
        checked(tenant)
    return f"BEGIN; SELECT set_config('{SETTING}', '{tenant}', true)"
