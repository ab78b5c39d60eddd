"""Check-ins.

Revision ID: checkin_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "checkin_0001"
down_revision = None
branch_labels = ("checkin",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkin",
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        schema="checkin",
    )


def downgrade() -> None:
    op.drop_table("checkin", schema="checkin")
