"""survey index: each kind's items grouped by their accounts, with what a week's plan counts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_items_survey",
        "items",
        [
            "kind",
            sa.text("CAST(accounts AS TEXT)"),
            "status",
            "manual_hold",
            "evergreen",
            "force",
            "not_after",
            "not_before",
            "mentions_own_domain",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_items_survey", table_name="items")
