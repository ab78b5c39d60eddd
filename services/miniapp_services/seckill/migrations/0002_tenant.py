"""Row-level security per tenant on flash sales and their winners: a tenant column in every row and key.

Revision ID: seckill_0002
"""

from miniapp_services.kit.isolation import Reference, Table, isolate, release

revision = "seckill_0002"
down_revision = "seckill_0001"
branch_labels = None
depends_on = None

TABLES = (
    Table("seckill", "event", ("event_id",)),
    Table("seckill", "winner", ("event_id", "user_id"), references=(Reference(("event_id",), "event", ("event_id",)),)),
)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
