"""Row-level security per tenant on notifications (its sender reads across tenants):
a tenant column in every row and key.

Revision ID: notify_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "notify_0002"
down_revision = "notify_0001"
branch_labels = None
depends_on = None

TABLES = (Table("notify", "notification", ("id",), jobs_read=True),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
