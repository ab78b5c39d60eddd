"""Cart items.

Revision ID: cart_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "cart_0001"
down_revision = None
branch_labels = ("cart",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item",
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        schema="cart",
    )


def downgrade() -> None:
    op.drop_table("item", schema="cart")
