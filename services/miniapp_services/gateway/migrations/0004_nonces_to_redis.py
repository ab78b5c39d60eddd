"""Nonces move to the replay guard's own store (Redis, keys with a TTL): the nonce table goes.

Revision ID: gateway_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0004"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("nonce", schema="gateway")


def downgrade() -> None:
    op.create_table(
        "nonce",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        schema="gateway",
    )
    op.create_index("ix_gateway_nonce_expires_at", "nonce", ["expires_at"], schema="gateway")
