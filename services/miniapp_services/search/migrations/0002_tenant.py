"""Row-level security per tenant on search documents: a tenant column in every row and key.

Revision ID: search_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "search_0002"
down_revision = "search_0001"
branch_labels = None
depends_on = None

TABLES = (Table("search", "document", ("sku",)),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
