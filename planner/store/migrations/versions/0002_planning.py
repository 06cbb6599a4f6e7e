"""planning: manual hold and forced release on items, notes on empty slots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("manual_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("force", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "empty_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("slot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_label", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_empty_slots")),
    )
    with op.batch_alter_table("empty_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_empty_slots_account_slot_at"), ["account", "slot_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("empty_slots")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("force")
        batch_op.drop_column("manual_hold")
