"""``planner status``: what is due, retrying, failed, held, unknown or paused, per account,
and the feeds whose last fetch failed.

Plain data for the command line (table or ``--json``); reads only. Also what ``planner
resume`` tells a person: when a paused account's posts will really go out
(:func:`resume_outlook`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.config.settings import Config
from planner.store.models import (
    AccountState,
    FeedState,
    Item,
    ItemAccountState,
    ItemStatus,
    PlanningState,
    Post,
    PostStatus,
)

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
        # Only a post in retry will be tried again; a failed one may keep its last retry time.
        "next_attempt_at": (
            row.next_attempt_at.isoformat()
            if row.next_attempt_at and row.status == PostStatus.RETRY
            else None
        ),
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
    held_items = _held_items(session, config)
    feeds = config.settings.feeds.sources
    failing = session.scalars(
        select(FeedState)
        .where(FeedState.name.in_(list(feeds)), FeedState.last_result == "error")
        .order_by(FeedState.name)
    ).all()
    return {
        "now": now.isoformat(),
        "accounts": accounts,
        "retrying": [_post(r) for r in attention if r.status == PostStatus.RETRY],
        "failed": [_post(r) for r in attention if r.status == PostStatus.FAILED],
        "unknown": [_post(r) for r in attention if r.status == PostStatus.UNKNOWN],
        "missed": [_post(r) for r in attention if r.status == PostStatus.MISSED],
        "held_posts": [_post(r) for r in attention if r.status == PostStatus.HELD],
        "held_items": held_items,
        "failing_feeds": [
            {
                "feed": feed.name,
                "error": feed.last_error,
                "last_fetch_at": feed.last_fetch_at.isoformat() if feed.last_fetch_at else None,
                "last_ok_at": feed.last_ok_at.isoformat() if feed.last_ok_at else None,
            }
            for feed in failing
            if feed.url == feeds[feed.name].url  # a URL changed since: not synced yet
        ],
    }


def _held_items(session: Session, config: Config) -> list[dict[str, Any]]:
    """Per account, the items held there (by the rule or by hand), each with that account's
    own reason; an item held by hand everywhere is listed once with account ``None``."""
    names = list(config.settings.accounts)
    rows = session.execute(
        select(
            ItemAccountState.item_id,
            ItemAccountState.account,
            Item.kind,
            ItemAccountState.reason,
            ItemAccountState.manual_hold,
        )
        .join(Item, Item.id == ItemAccountState.item_id)
        .where(
            ItemAccountState.account.in_(names),
            (ItemAccountState.state == PlanningState.HELD) | ItemAccountState.manual_hold.is_(True),
            Item.manual_hold.is_(False),
            Item.status.not_in([ItemStatus.ARCHIVED, ItemStatus.PUBLISHED]),
        )
        .order_by(ItemAccountState.account, Item.id)
    ).all()
    held: list[dict[str, Any]] = [
        {
            "item": r.item_id,
            "account": r.account,
            "kind": r.kind,
            "reason": "held by hand on this account" if r.manual_hold else r.reason,
        }
        for r in rows
    ]
    by_hand = session.execute(
        select(Item.id, Item.kind)
        .where(Item.manual_hold.is_(True), Item.status != ItemStatus.ARCHIVED)
        .order_by(Item.id)
    ).all()
    held += [
        {"item": r.id, "account": None, "kind": r.kind, "reason": "held by hand on every account"}
        for r in by_hand
    ]
    return held


@dataclass(frozen=True)
class ResumeOutlook:
    """When a paused account's planned posts go out once it is resumed, at ``now``.

    ``late``: posts whose slot passed less than ``grace_minutes`` ago; the runner sends them
    at its next sweep, oldest first, ``spacing_seconds`` apart, the ratio checked again.
    ``overdue``: posts whose slot passed longer ago; they become ``missed`` and their items
    return to the queue. ``next_at`` (UTC) and ``next_item``: the first post still ahead.
    """

    account: str
    timezone: str
    late: int
    overdue: int
    next_at: datetime | None
    next_item: str | None
    grace_minutes: float
    spacing_seconds: float
    sweep_seconds: float

    def lines(self) -> list[str]:
        """What ``planner resume`` prints: one line each for the late, the overdue, the next."""
        said = []
        if self.late:
            said.append(
                f"{_posts(self.late)} whose time passed less than {self.grace_minutes:g} min "
                f"ago: sent at the runner's next sweep (every {self.sweep_seconds:g} s while "
                f"`planner run` runs), oldest first, {self.spacing_seconds:g} s apart, the "
                "ratio checked again"
            )
        if self.overdue:
            said.append(
                f"{_posts(self.overdue)} whose time passed more than {self.grace_minutes:g} "
                "min ago: marked missed at the runner's next sweep, their items back in the "
                "queue"
            )
        if self.next_at is None:
            said.append("no post planned ahead: run `planner plan`")
        else:
            local = self.next_at.astimezone(ZoneInfo(self.timezone))
            said.append(
                f"next planned post: {local:%a %Y-%m-%d %H:%M} {self.timezone} ({self.next_item})"
            )
        return said


def _posts(count: int) -> str:
    return "1 post" if count == 1 else f"{count} posts"


def resume_outlook(session: Session, config: Config, account: str, now: datetime) -> ResumeOutlook:
    """What happens to ``account``'s planned posts when it is resumed at ``now``."""
    run = config.settings.run
    cutoff = now - timedelta(minutes=run.grace_minutes)
    planned = (Post.account == account, Post.status == PostStatus.PLANNED)
    late = session.scalar(
        select(func.count()).where(*planned, Post.slot_at >= cutoff, Post.slot_at <= now)
    )
    overdue = session.scalar(select(func.count()).where(*planned, Post.slot_at < cutoff))
    ahead = session.execute(
        select(Post.slot_at, Post.item_id)
        .where(*planned, Post.slot_at > now)
        .order_by(Post.slot_at, Post.id)
        .limit(1)
    ).first()
    return ResumeOutlook(
        account=account,
        timezone=str(config.account_timezone(account)),
        late=late or 0,
        overdue=overdue or 0,
        next_at=ahead.slot_at if ahead else None,
        next_item=ahead.item_id if ahead else None,
        grace_minutes=run.grace_minutes,
        spacing_seconds=run.min_spacing_seconds,
        sweep_seconds=run.sweep_seconds,
    )
