"""planning order index: each kind's items best first, so a plan's cursors need no sort

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_items_planning_order",
        "items",
        ["kind", sa.text("priority DESC"), "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_items_planning_order", table_name="items")
