"""Coupon's tables (schema "coupon"): templates with a remaining count, and one claim per user."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, MetaData, String, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miniapp_services.coupon.domain import Claim, Template
from miniapp_services.kit.db import claim_one


class Base(DeclarativeBase):
    metadata = MetaData(schema="coupon")


class TemplateRow(Base):
    __tablename__ = "template"
    __table_args__ = (CheckConstraint("remaining >= 0 AND remaining <= total", name="template_remaining_in_total"),)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    min_total_cents: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)


class ClaimRow(Base):
    __tablename__ = "claim"
    code: Mapped[str] = mapped_column(ForeignKey("coupon.template.code"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[str | None] = mapped_column(String(64))


class SqlCouponRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def template(self, code: str) -> Template | None:
        row = await self.session.get(TemplateRow, code)
        return (
            None
            if row is None
            else Template(row.code, row.discount_cents, row.min_total_cents, row.total, row.remaining)
        )

    async def create(self, template: Template) -> bool:
        result = await self.session.execute(insert(TemplateRow).values(**vars(template)).on_conflict_do_nothing())
        return result.rowcount == 1

    async def claim(self, code: str, user_id: int) -> Literal["taken", "already", "none_left"]:
        holder = insert(ClaimRow).values(code=code, user_id=user_id)
        take = update(TemplateRow).where(TemplateRow.code == code, TemplateRow.remaining > 0)
        return (await claim_one(self.session, holder, take.values(remaining=TemplateRow.remaining - 1))).value

    async def claims(self, user_id: int) -> list[Claim]:
        query = select(ClaimRow).where(ClaimRow.user_id == user_id).order_by(ClaimRow.code)
        return [Claim(row.code, row.user_id, row.order_id) for row in (await self.session.execute(query)).scalars()]

    async def get_claim(self, code: str, user_id: int) -> Claim | None:
        row = await self.session.get(ClaimRow, (code, user_id), with_for_update=True)
        return None if row is None else Claim(row.code, row.user_id, row.order_id)

    async def spend(self, claim: Claim, order_id: str) -> None:
        row = await self.session.get(ClaimRow, (claim.code, claim.user_id))
        if row is not None:
            row.order_id = order_id
