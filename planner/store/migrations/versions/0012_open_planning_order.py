"""open planning order: the planning-order index leaves out the items already done

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# As the plan's queries write it (planner.store.models.open_items_condition, at this
# revision): SQLite uses the index only for a query that repeats this condition.
OPEN = (
    "(status IN ('queued', 'held', 'planned', 'expired') OR (status = 'published' AND evergreen))"
)


def upgrade() -> None:
    op.drop_index("ix_items_planning_order", table_name="items")
    # A plan breaks ties by id in code point order, as Python does (COLLATE "C" on
    # PostgreSQL, whose default collation may follow the locale; SQLite's is that order): the
    # index must be in the same order for the database to walk it rather than sort.
    postgresql = op.get_bind().dialect.name == "postgresql"
    by_id = sa.text('id COLLATE "C"') if postgresql else "id"
    op.create_index(
        "ix_items_open_planning_order",
        "items",
        ["kind", sa.text("priority DESC"), "created_at", by_id],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_items_open_planning_order", table_name="items")
    op.create_index(
        "ix_items_planning_order",
        "items",
        ["kind", sa.text("priority DESC"), "created_at", "id"],
    )
