"""Payments.

Revision ID: pay_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "pay_0001"
down_revision = None
branch_labels = ("pay",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.String(64), nullable=False, unique=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        schema="pay",
    )


def downgrade() -> None:
    op.drop_table("payment", schema="pay")
