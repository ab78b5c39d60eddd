"""Row-level security per tenant on coupon templates and their claims: a tenant column in every row and key.

Revision ID: coupon_0002
"""

from miniapp_services.kit.isolation import Reference, Table, isolate, release

revision = "coupon_0002"
down_revision = "coupon_0001"
branch_labels = None
depends_on = None

TABLES = (
    Table("coupon", "template", ("code",)),
    Table("coupon", "claim", ("code", "user_id"), references=(Reference(("code",), "template", ("code",)),)),
)


def upgrade() -> None:
    isolate(TABLES)


def downgrade() -> None:
    release(TABLES)
