"""Stock and reservations.

Revision ID: inventory_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory_0001"
down_revision = None
branch_labels = ("inventory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("committed", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("available >= 0 AND reserved >= 0 AND committed >= 0", name="stock_nonnegative"),
        schema="inventory",
    )
    op.create_table(
        "reservation",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        schema="inventory",
    )


def downgrade() -> None:
    op.drop_table("reservation", schema="inventory")
    op.drop_table("stock", schema="inventory")
