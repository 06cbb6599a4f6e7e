"""``planner status``: what is due, retrying, failed, held, unknown or paused, per account.

Plain data for the command line (table or ``--json``); reads only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.store.models import AccountState, Item, ItemStatus, Post, PostStatus

ATTENTION = (PostStatus.RETRY, PostStatus.FAILED, PostStatus.UNKNOWN, PostStatus.MISSED,
             PostStatus.HELD)  # fmt: skip


def _post(row: Any) -> dict[str, Any]:
    return {
        "post": row.id,
        "account": row.account,
        "item": row.item_id,
        "slot_at": row.slot_at.isoformat(),
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
        "reason": row.reason,
    }


def build_status(session: Session, config: Config, now: datetime) -> dict[str, Any]:
    """The state of publishing at ``now``; every list is in time order."""
    accounts: dict[str, Any] = {}
    states = {s.account: s for s in session.scalars(select(AccountState))}
    for name in config.settings.accounts:
        state = states.get(name)
        due = session.execute(
            select(Post.slot_at, Post.item_id, Post.kind)
            .where(Post.account == name, Post.status.in_([PostStatus.PLANNED, PostStatus.RETRY]))
            .order_by(Post.slot_at)
            .limit(1)
        ).first()
        last = session.execute(
            select(Post.published_at, Post.remote_url)
            .where(Post.account == name, Post.status == PostStatus.PUBLISHED)
            .order_by(Post.published_at.desc())
            .limit(1)
        ).first()
        counts = dict(
            session.execute(
                select(Post.status, func.count()).where(Post.account == name).group_by(Post.status)
            ).all()
        )
        accounts[name] = {
            "network": config.settings.accounts[name].network,
            "paused": bool(state and state.paused),
            "paused_reason": state.paused_reason if state else None,
            "next": (
                {"at": due.slot_at.isoformat(), "item": due.item_id, "kind": due.kind}
                if due
                else None
            ),
            "last_published_at": last.published_at.isoformat() if last else None,
            "last_published_url": last.remote_url if last else None,
            "counts": {status: counts.get(status, 0) for status in PostStatus},
        }
    attention = session.execute(
        select(
            Post.id,
            Post.account,
            Post.item_id,
            Post.slot_at,
            Post.status,
            Post.attempts,
            Post.next_attempt_at,
            Post.reason,
        )  # fmt: skip
        .where(Post.status.in_(ATTENTION))
        .order_by(Post.slot_at, Post.id)
    ).all()
    held_items = session.execute(
        select(Item.id, Item.kind, Item.status_reason)
        .where(Item.status == ItemStatus.HELD)
        .order_by(Item.id)
    ).all()
    return {
        "now": now.isoformat(),
        "accounts": accounts,
        "retrying": [_post(r) for r in attention if r.status == PostStatus.RETRY],
        "failed": [_post(r) for r in attention if r.status == PostStatus.FAILED],
        "unknown": [_post(r) for r in attention if r.status == PostStatus.UNKNOWN],
        "missed": [_post(r) for r in attention if r.status == PostStatus.MISSED],
        "held_posts": [_post(r) for r in attention if r.status == PostStatus.HELD],
        "held_items": [
            {"item": r.id, "kind": r.kind, "reason": r.status_reason} for r in held_items
        ],
    }
