"""Row-level security per tenant on orders and their lines (its sweeps read orders across tenants):
a tenant column in every row and key.

Revision ID: order_0003
"""

from miniapp_services.kit.isolation import Reference, Table, isolate, release

revision = "order_0003"
down_revision = "order_0002"
branch_labels = None
depends_on = None

TABLES = (
    Table("order", "order", ("order_id",), jobs_read=True),
    Table("order", "line", ("order_id", "sku"), references=(Reference(("order_id",), "order", ("order_id",)),)),
)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
