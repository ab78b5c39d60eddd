"""Stateless JWT sessions; a shared nonce table for replay protection.

Revision ID: gateway_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("session", schema="gateway")
    op.create_table(
        "nonce",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema="gateway",
    )
    op.create_index("ix_gateway_nonce_expires_at", "nonce", ["expires_at"], schema="gateway")


def downgrade() -> None:
    op.drop_table("nonce", schema="gateway")
    op.create_table(
        "session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema="gateway",
    )
