"""Orders and their lines.

Revision ID: order_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "order_0001"
down_revision = None
branch_labels = ("order",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_id", sa.String(64), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        schema="order",
    )
    op.create_index("ix_order_order_user_id", "order", ["user_id"], schema="order")
    op.create_table(
        "line",
        sa.Column("order_id", sa.String(64), sa.ForeignKey("order.order.order_id"), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        schema="order",
    )


def downgrade() -> None:
    op.drop_table("line", schema="order")
    op.drop_table("order", schema="order")
