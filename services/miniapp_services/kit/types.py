"""Input types shared by every service edge, so an id means the same thing everywhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

_IDENT = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

Ident = Annotated[str, Field(pattern=_IDENT, description="1-64 letters, digits, '-' or '_'")]
IdentPath = Annotated[str, Path(pattern=_IDENT, description="1-64 letters, digits, '-' or '_'")]
EntityId = Annotated[int, Field(ge=1, le=2**63 - 1, description="a positive id")]
EntityIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="a positive id")]
