"""Orders accepted under overload, placed later.

Revision ID: gateway_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queued_order",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        schema="gateway",
    )
    op.create_index("ix_gateway_queued_order_queued_at", "queued_order", ["queued_at"], schema="gateway")


def downgrade() -> None:
    op.drop_table("queued_order", schema="gateway")
