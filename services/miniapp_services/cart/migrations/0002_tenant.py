"""Row-level security per tenant on the cart's items: a tenant column in every row and key.

Revision ID: cart_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "cart_0002"
down_revision = "cart_0001"
branch_labels = None
depends_on = None

TABLES = (Table("cart", "item", ("user_id", "sku")),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
