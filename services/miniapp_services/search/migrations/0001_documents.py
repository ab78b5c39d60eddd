"""Search documents with a generated tsvector and its GIN index.

Revision ID: search_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "search_0001"
down_revision = None
branch_labels = ("search",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column(
            "words", postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', title)", persisted=True), nullable=False
        ),
        schema="search",
    )
    op.create_index("ix_search_document_category", "document", ["category"], schema="search")
    op.create_index("ix_search_document_words", "document", ["words"], postgresql_using="gin", schema="search")


def downgrade() -> None:
    op.drop_table("document", schema="search")
