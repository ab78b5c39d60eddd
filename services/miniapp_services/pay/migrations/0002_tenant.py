"""Row-level security per tenant on payments: a tenant column in every row and key.

Revision ID: pay_0002
"""

from miniapp_services.kit.isolation import Table, isolate, release

revision = "pay_0002"
down_revision = "pay_0001"
branch_labels = None
depends_on = None

TABLES = (Table("pay", "payment", ("order_id",), unique=(("payment_id",),)),)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
