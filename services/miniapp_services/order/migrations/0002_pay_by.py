"""Each order's payment deadline, and the unpaid orders by it.

Revision ID: order_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "order_0002"
down_revision = "order_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order", sa.Column("pay_by", sa.DateTime(timezone=True), nullable=True), schema="order")
    # The expiry sweep reads only unpaid orders with a deadline: the index holds those and nothing else.
    op.create_index(
        "ix_order_order_unpaid_pay_by",
        "order",
        ["pay_by"],
        schema="order",
        postgresql_where=sa.text("status = 'pending_payment' AND pay_by IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_order_order_unpaid_pay_by", table_name="order", schema="order")
    op.drop_column("order", "pay_by", schema="order")
