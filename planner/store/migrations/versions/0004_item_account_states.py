"""per-account planning state: held, waiting, expired or skipped, and holds by hand, per
(item, account); the count of items a plan left out unnamed, per account

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_account_states",
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("manual_hold", sa.Boolean(), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_account_states_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "account", name=op.f("pk_item_account_states")),
    )
    with op.batch_alter_table("item_account_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_account_states_account_state"), ["account", "state"], unique=False
        )

    op.create_table(
        "account_plans",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("unlisted", sa.Integer(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_account_plans")),
    )


def downgrade() -> None:
    op.drop_table("account_plans")
    op.drop_table("item_account_states")
