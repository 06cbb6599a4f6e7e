"""items, posts and publish attempts

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("credit", sa.String(length=500), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evergreen", sa.Boolean(), nullable=False),
        sa.Column("cooldown_days", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_source"), ["source"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_items_status_kind_priority"),
            ["status", "kind", "priority"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_items_url"), ["url"], unique=False)

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_label", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("is_pitch", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("remote_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_posts_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_posts_idempotency_key")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_posts_account_slot_at"), ["account", "slot_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_posts_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_posts_status_slot_at"), ["status", "slot_at"], unique=False
        )

    op.create_table(
        "publish_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_publish_attempts_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_attempts")),
    )
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_attempts_post_id_started_at"),
            ["post_id", "started_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_attempts_post_id_started_at"))

    op.drop_table("publish_attempts")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_status_slot_at"))
        batch_op.drop_index(batch_op.f("ix_posts_item_id"))
        batch_op.drop_index(batch_op.f("ix_posts_account_slot_at"))

    op.drop_table("posts")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_url"))
        batch_op.drop_index(batch_op.f("ix_items_status_kind_priority"))
        batch_op.drop_index(batch_op.f("ix_items_source"))

    op.drop_table("items")
