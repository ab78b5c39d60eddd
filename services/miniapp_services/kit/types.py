"""Input types shared by every service edge, so an id means the same thing everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

_IDENT = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

Ident = Annotated[str, Field(pattern=_IDENT, description="1-64 letters, digits, '-' or '_'")]
IdentPath = Annotated[str, Path(pattern=_IDENT, description="1-64 letters, digits, '-' or '_'")]
# In a JSON body an id is a JSON integer: strict, or Python would take `true` for user 1 (a fuzzed check-in was);
# in a path or a query it is text, parsed.
EntityId = Annotated[int, Field(ge=1, le=2**63 - 1, strict=True, description="a positive id")]
EntityIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="a positive id")]
EntityIdQuery = Annotated[int, Query(ge=1, le=2**63 - 1, description="a positive id")]
# Free text a row or a JSON document keeps: anything but NUL, which PostgreSQL's text and jsonb cannot hold (a
# fuzzed nickname with one was a 500); the field adds its own length bounds.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]

_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)


def _within(value: datetime) -> datetime:
    """An instant PostgreSQL's timestamptz and Python both hold in UTC (year 1 at +01:00 was a fuzzed 500)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc <= _LATEST:
        raise ValueError(f"out of range: write an instant between {_EARLIEST.date()} and {_LATEST.date()} (UTC)")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_within)]
