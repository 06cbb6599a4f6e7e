"""republishable items: the items that went out before and may go out again, indexed

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# As the plan's query writes it (planner.store.models.republishable_condition, at this
# revision): SQLite uses the index only for a query that repeats this condition.
REPUBLISHABLE = (
    "(last_published_at IS NOT NULL AND (evergreen OR status NOT IN ('published', 'archived')))"
)


def upgrade() -> None:
    # The index finds the items by last_published_at: an item with a published post gets
    # it when the post goes out. Set it where an older version left it empty, from the
    # item's published posts (a plain UPDATE: the items' own-domain flags stay). Read from
    # the posts' side, once: asked per item, SQLite walks the posts of that status each time.
    connection = op.get_bind()
    missing = connection.execute(
        sa.text(
            "SELECT posts.item_id, max(coalesce(posts.published_at, posts.slot_at))"
            " FROM posts JOIN items ON items.id = posts.item_id"
            " WHERE posts.status = 'published' AND items.last_published_at IS NULL"
            " GROUP BY posts.item_id"
        )
    ).all()
    if missing:
        connection.execute(
            sa.text("UPDATE items SET last_published_at = :at WHERE id = :id"),
            [{"id": item_id, "at": at} for item_id, at in missing],
        )
    op.create_index(
        "ix_items_republishable",
        "items",
        ["id"],
        sqlite_where=sa.text(REPUBLISHABLE),
        postgresql_where=sa.text(REPUBLISHABLE),
    )


def downgrade() -> None:
    op.drop_index("ix_items_republishable", table_name="items")
