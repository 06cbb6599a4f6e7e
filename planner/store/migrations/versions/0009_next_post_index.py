"""next post index: an account's posts by status, then time, for the runner's due times

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_account_status_slot_at", "posts", ["account", "status", "slot_at"])


def downgrade() -> None:
    op.drop_index("ix_posts_account_status_slot_at", table_name="posts")
