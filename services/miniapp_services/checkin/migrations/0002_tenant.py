"""Row-level security per tenant on check-ins: a tenant column in every row and key.

Revision ID: checkin_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "checkin_0002"
down_revision = "checkin_0001"
branch_labels = None
depends_on = None

TABLES = (Table("checkin", "checkin", ("user_id", "day")),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
