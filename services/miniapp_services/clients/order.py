"""An order's lines as order's edge accepts them, shared by order and the gateway in front of it, so a caller
refuses exactly what order would."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from miniapp_services.clients.order_limits import MAX_LINES, MAX_QUANTITY
from miniapp_services.kit.types import Ident


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: Ident
    quantity: int = Field(strict=True, ge=1, le=MAX_QUANTITY)


Lines = Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
