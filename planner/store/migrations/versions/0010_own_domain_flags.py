"""own domain flags: whether an item mentions an own domain, and for which domains

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every flag starts unknown: the first plan after the upgrade computes them all.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions_own_domain", sa.Boolean(), nullable=True))
    unknown = sa.text("mentions_own_domain IS NULL")
    op.create_index(
        "ix_items_mentions_own_domain_unknown",
        "items",
        ["id"],
        sqlite_where=unknown,
        postgresql_where=unknown,
    )
    op.create_table(
        "own_domain_flags",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_own_domain_flags")),
    )


def downgrade() -> None:
    op.drop_table("own_domain_flags")
    op.drop_index("ix_items_mentions_own_domain_unknown", table_name="items")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("mentions_own_domain")
