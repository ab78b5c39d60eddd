"""Users.

Revision ID: user_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "user_0001"
down_revision = None
branch_labels = ("user",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False, unique=True),
        sa.Column("nickname", sa.String(32), nullable=False),
        schema="user",
    )


def downgrade() -> None:
    op.drop_table("user", schema="user")
