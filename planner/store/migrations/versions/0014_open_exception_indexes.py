"""open exception indexes: the gives a week's plan reads whole, found without a pass

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# As the plan's queries write them (planner.store.models.open_dated_condition and
# open_marked_condition, at this revision): SQLite uses a partial index only for a query
# that repeats its condition.
OPEN = (
    "(status IN ('queued', 'held', 'planned', 'expired') OR (status = 'published' AND evergreen))"
)
DATED = f"(not_after IS NOT NULL AND {OPEN})"
MARKED = f"((force OR mentions_own_domain OR mentions_own_domain IS NULL) AND {OPEN})"


def upgrade() -> None:
    op.create_index(
        "ix_items_open_dated",
        "items",
        ["kind", "not_after"],
        sqlite_where=sa.text(DATED),
        postgresql_where=sa.text(DATED),
    )
    op.create_index(
        "ix_items_open_marked",
        "items",
        ["kind", "id"],
        sqlite_where=sa.text(MARKED),
        postgresql_where=sa.text(MARKED),
    )


def downgrade() -> None:
    op.drop_index("ix_items_open_marked", table_name="items")
    op.drop_index("ix_items_open_dated", table_name="items")
