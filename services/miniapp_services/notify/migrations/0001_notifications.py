"""Notification outbox.

Revision ID: notify_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "notify_0001"
down_revision = None
branch_labels = ("notify",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        schema="notify",
    )
    op.create_index("ix_notify_notification_user_id", "notification", ["user_id"], schema="notify")
    op.create_index("ix_notify_notification_status", "notification", ["status"], schema="notify")


def downgrade() -> None:
    op.drop_table("notification", schema="notify")
