"""media: an item's images, and the network's ids of what was uploaded for a post

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_media",
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("is_url", sa.Boolean(), nullable=False),
        sa.Column("alt", sa.Text(), nullable=True),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_media_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "position", name=op.f("pk_item_media")),
    )
    op.create_table(
        "post_media",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_media_post_id_posts"),
            ondelete="CASCADE",  # a post taken out of the plan takes its upload ids along
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_media")),
    )


def downgrade() -> None:
    op.drop_table("post_media")
    op.drop_table("item_media")
