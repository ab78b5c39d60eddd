"""Row-level security per tenant on products: a tenant column in every row and key.

Revision ID: product_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "product_0002"
down_revision = "product_0001"
branch_labels = None
depends_on = None

TABLES = (Table("product", "product", ("sku",)),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
