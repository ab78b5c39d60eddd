"""Coupon's tables (schema "coupon"): templates with a remaining count, and one claim per user."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.coupon.domain import Claim, Template
from miniapp_services.kit.db import Connection, claim_one
from miniapp_services.kit.isolation import Tenanted, check


class Base(DeclarativeBase):
    metadata = MetaData(schema="coupon")


class TemplateRow(Tenanted, Base):
    __tablename__ = "template"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= total", name="template_remaining_in_total"),
        check("template"),
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    min_total_cents: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)


class ClaimRow(Tenanted, Base):
    __tablename__ = "claim"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant", "code"], ["coupon.template.tenant", "coupon.template.code"], name="claim_code_fkey"
        ),
        check("claim"),
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[str | None] = mapped_column(String(64))


class SqlCouponRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def template(self, code: str) -> Template | None:
        row = await self.conn.fetchrow(
            "SELECT code, discount_cents, min_total_cents, total, remaining FROM coupon.template WHERE code = $1", code
        )
        return None if row is None else Template(*row.values())

    async def create(self, template: Template) -> bool:
        inserted = await self.conn.fetchval(
            """INSERT INTO coupon.template (code, discount_cents, min_total_cents, total, remaining)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1""",
            template.code,
            template.discount_cents,
            template.min_total_cents,
            template.total,
            template.remaining,
        )
        return inserted is not None

    async def claim(self, code: str, user_id: int) -> Literal["taken", "already", "none_left"]:
        holder = "INSERT INTO coupon.claim (code, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"
        take = "UPDATE coupon.template SET remaining = remaining - 1 WHERE code = $1 AND remaining > 0 RETURNING 1"
        return (await claim_one(self.conn, holder, (code, user_id), take, (code,))).value

    async def claims(self, user_id: int) -> list[Claim]:
        rows = await self.conn.fetch(
            "SELECT code, user_id, order_id FROM coupon.claim WHERE user_id = $1 ORDER BY code", user_id
        )
        return [Claim(*row.values()) for row in rows]

    async def get_claim(self, code: str, user_id: int) -> Claim | None:
        row = await self.conn.fetchrow(
            "SELECT code, user_id, order_id FROM coupon.claim WHERE code = $1 AND user_id = $2 FOR UPDATE",
            code,
            user_id,
        )
        return None if row is None else Claim(*row.values())

    async def spend(self, claim: Claim, order_id: str) -> None:
        await self.conn.execute(
            "UPDATE coupon.claim SET order_id = $3 WHERE code = $1 AND user_id = $2",
            claim.code,
            claim.user_id,
            order_id,
        )
