"""Products.

Revision ID: product_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "product_0001"
down_revision = None
branch_labels = ("product",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("on_sale", sa.Boolean(), nullable=False),
        schema="product",
    )
    op.create_index("ix_product_product_category", "product", ["category"], schema="product")


def downgrade() -> None:
    op.drop_table("product", schema="product")
