"""Coupon use cases against the repository protocol."""

from __future__ import annotations

from typing import Literal, Protocol

from miniapp_services.coupon import domain
from miniapp_services.coupon.domain import Claim, Template
from miniapp_services.kit.errors import Conflict, NotFound


class CouponRepository(Protocol):
    async def template(self, code: str) -> Template | None: ...
    async def create(self, template: Template) -> bool: ...
    async def claim(self, code: str, user_id: int) -> Literal["taken", "already", "none_left"]: ...
    async def claims(self, user_id: int) -> list[Claim]: ...
    async def get_claim(self, code: str, user_id: int) -> Claim | None: ...
    async def spend(self, claim: Claim, order_id: str) -> None: ...


async def create(repo: CouponRepository, template: Template) -> Template:
    if not await repo.create(template):
        raise Conflict(f"coupon {template.code} exists already; templates are not edited", field="code")
    return template


async def _template(repo: CouponRepository, code: str) -> Template:
    template = await repo.template(code)
    if template is None:
        raise NotFound(f"no coupon {code!r}", field="code")
    return template


async def claim(repo: CouponRepository, code: str, user_id: int) -> Claim:
    await _template(repo, code)
    outcome = await repo.claim(code, user_id)
    if outcome == "already":
        raise Conflict(f"user {user_id} already holds coupon {code}", field="user_id")
    if outcome == "none_left":
        raise Conflict(f"coupon {code} has all been given out", field="code")
    return Claim(code, user_id)


async def redeem(repo: CouponRepository, code: str, user_id: int, order_id: str, order_total_cents: int) -> int:
    """Spend the user's coupon on an order and return the discount; the same order may ask again."""
    template = await _template(repo, code)
    held = await repo.get_claim(code, user_id)
    if held is None:
        raise NotFound(f"user {user_id} holds no coupon {code}", field="code")
    cut = domain.discount(template, held, order_id, order_total_cents)
    await repo.spend(held, order_id)
    return cut


async def held(repo: CouponRepository, user_id: int) -> list[Claim]:
    return await repo.claims(user_id)
