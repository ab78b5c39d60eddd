"""Row-level security per tenant on queued orders (its drainer reads across tenants):
a tenant column in every row and key.

Revision ID: gateway_0006
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "gateway_0006"
down_revision = "gateway_0005"
branch_labels = None
depends_on = None

TABLES = (Table("gateway", "queued_order", ("order_id",), jobs_read=True),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
