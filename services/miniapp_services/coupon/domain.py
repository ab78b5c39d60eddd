"""Coupons: templates with a limited number to give out, one per user, redeemed once against an order."""

from __future__ import annotations

from dataclasses import dataclass

from miniapp_services.kit.errors import Conflict


@dataclass(frozen=True)
class Template:
    code: str
    discount_cents: int
    min_total_cents: int
    total: int
    remaining: int


@dataclass(frozen=True)
class Claim:
    code: str
    user_id: int
    order_id: str | None = None


def discount(template: Template, claim: Claim, order_id: str, order_total_cents: int) -> int:
    """The discount this claim gives the order; a claim is spent on one order only (repeatable for it)."""
    if claim.order_id not in (None, order_id):
        raise Conflict(f"coupon {claim.code} was spent on order {claim.order_id}", field="code")
    if order_total_cents < template.min_total_cents:
        raise Conflict(
            f"coupon {template.code} needs an order of {template.min_total_cents} or more", field="order_total_cents"
        )
    return min(template.discount_cents, order_total_cents)
