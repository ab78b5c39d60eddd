"""Each queued order's notice (the tenant's notice template filled in when the order was accepted), sent through
notify once the order is placed.

Revision ID: gateway_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0005"
down_revision = "gateway_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("queued_order", sa.Column("notice", sa.Text(), nullable=True), schema="gateway")


def downgrade() -> None:
    op.drop_column("queued_order", "notice", schema="gateway")
