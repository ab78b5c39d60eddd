"""Flash-sale events and winners.

Revision ID: seckill_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "seckill_0001"
down_revision = None
branch_labels = ("seckill",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= stock", name="event_remaining_in_stock"),
        schema="seckill",
    )
    op.create_table(
        "winner",
        sa.Column("event_id", sa.String(64), sa.ForeignKey("seckill.event.event_id"), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("won_at", sa.DateTime(timezone=True), nullable=False),
        schema="seckill",
    )


def downgrade() -> None:
    op.drop_table("winner", schema="seckill")
    op.drop_table("event", schema="seckill")
