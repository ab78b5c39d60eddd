"""Coupon templates and claims.

Revision ID: coupon_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "coupon_0001"
down_revision = None
branch_labels = ("coupon",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("discount_cents", sa.BigInteger(), nullable=False),
        sa.Column("min_total_cents", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= total", name="template_remaining_in_total"),
        schema="coupon",
    )
    op.create_table(
        "claim",
        sa.Column("code", sa.String(64), sa.ForeignKey("coupon.template.code"), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        schema="coupon",
    )


def downgrade() -> None:
    op.drop_table("claim", schema="coupon")
    op.drop_table("template", schema="coupon")
