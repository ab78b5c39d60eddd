"""Row-level security per tenant on stock and reservations: a tenant column in every row and key.

Revision ID: inventory_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "inventory_0002"
down_revision = "inventory_0001"
branch_labels = None
depends_on = None

TABLES = (
    Table("inventory", "stock", ("sku",)),
    Table("inventory", "reservation", ("order_id", "sku")),
)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
