"""Row-level security per tenant on users (an openid is unique within its mini-program):
a tenant column in every row and key.

Revision ID: user_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "user_0002"
down_revision = "user_0001"
branch_labels = None
depends_on = None

TABLES = (Table("user", "user", ("id",), unique=(("openid",),)),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
