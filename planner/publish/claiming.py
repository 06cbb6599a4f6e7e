"""Claiming a due post: one account's next post, taken in its own committed transaction.

The account's row in ``account_states`` is locked first (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``; SQLite: ``BEGIN IMMEDIATE``), so one account's posts are claimed one at a time and
in slot order, by one runner, however many runners share the database. Only the account's
earliest unfinished post may be claimed, once it is due: its slot time (or retry time) has
come, and the account's last post went out at least ``min_spacing_seconds`` ago.

A pitch is checked against what was published in the same transaction
(:mod:`planner.publish.recheck`); when the rule now refuses it, it is held and the next
give that fits is claimed on its slot instead, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, func, select, update

from planner.config.settings import Config
from planner.plan.render import Renderer
from planner.publish.claims import UNCERTAIN, Claimed, ClaimResult, Outcome
from planner.publish.recheck import claim_substitute, hold_at_publish_time, published_tracker
from planner.store.database import Database
from planner.store.models import AccountState, Item, Post, PostStatus, PublishAttempt

UNFINISHED = (PostStatus.PLANNED, PostStatus.RETRY)


def due_at(connection: Connection, account: str, min_spacing_seconds: float) -> datetime | None:
    """When the account's next post is due; None when paused, busy or nothing is planned."""
    state = connection.execute(
        select(AccountState.paused, AccountState.last_published_at).where(
            AccountState.account == account
        )
    ).first()
    if state is None or state.paused:
        return None
    in_flight = connection.scalar(
        select(exists().where(Post.account == account, Post.status == PostStatus.CLAIMED))
    )
    if in_flight:
        return None
    head = connection.execute(
        select(Post.status, Post.slot_at, Post.next_attempt_at)
        .where(Post.account == account, Post.status.in_(UNFINISHED))
        .order_by(Post.slot_at, Post.id)
        .limit(1)
    ).first()
    if head is None:
        return None
    due: datetime = head.slot_at
    if head.status == PostStatus.RETRY and head.next_attempt_at is not None:
        due = head.next_attempt_at
    if state.last_published_at is not None:
        due = max(due, state.last_published_at + timedelta(seconds=min_spacing_seconds))
    return due


def claim_next(
    db: Database,
    config: Config,
    worker: str,
    renderer: Callable[[], Renderer],
    account: str,
    now: datetime,
) -> ClaimResult | None:
    """Claim the account's next due post in its own committed transaction; None when
    nothing is due (or another runner holds the account).

    A pitch is checked against what was published in the same transaction: when the
    rule now refuses it, it is held and the next give that fits is claimed on its slot
    instead (``ClaimResult.held`` and ``ClaimResult.post``), all or nothing.
    """
    with db.write_connection() as connection, connection.begin():
        lock = select(AccountState.paused).where(AccountState.account == account)
        if connection.dialect.name == "postgresql":
            lock = lock.with_for_update(skip_locked=True)
        paused = connection.scalar(lock)
        if paused is None or paused:
            return None  # another runner holds the account, or it is paused
        due = due_at(connection, account, config.settings.run.min_spacing_seconds)
        if due is None or due > now:
            return None
        head = connection.scalar(
            select(Post.id)
            .where(Post.account == account, Post.status.in_(UNFINISHED))
            .order_by(Post.slot_at, Post.id)
            .limit(1)
        )
        if head is None:
            return None
        # The post must still be there and unfinished when it is claimed: a plan may have
        # replaced it since it was read (it then holds its row until it commits).
        row = connection.execute(
            update(Post)
            .where(Post.id == head, Post.status.in_(UNFINISHED))
            .values(
                status=PostStatus.CLAIMED,
                claimed_by=worker,
                claimed_at=now,
                attempts=Post.attempts + 1,
                updated_at=now,
            )
            .returning(
                Post.id,
                Post.slot_at,
                Post.text,
                Post.idempotency_key,
                Post.is_pitch,
                Post.forced,
                Post.attempts,
                Post.item_id,
                Post.kind,
            )
        ).first()
        if row is None:
            return None
        url = connection.scalar(select(Item.url).where(Item.id == row.item_id))
        maybe_sent_at = (
            connection.scalar(
                select(func.min(PublishAttempt.started_at)).where(
                    PublishAttempt.post_id == row.id, PublishAttempt.outcome == UNCERTAIN
                )
            )
            if row.attempts > 1
            else None
        )
        claimed = Claimed(
            post_id=row.id,
            account=account,
            slot_at=row.slot_at,
            text=row.text or "",
            idempotency_key=row.idempotency_key,
            is_pitch=row.is_pitch,
            forced=row.forced,
            attempts=row.attempts,
            item_id=row.item_id,
            kind=row.kind,
            url=url,
            maybe_sent_at=maybe_sent_at,
        )
        # A post that may be out already is not re-checked: holding it would plan its
        # item again under a new key.
        if claimed.is_pitch and not claimed.forced and maybe_sent_at is None:
            decision = published_tracker(connection, config, account, now).decide(now, True)
            if not decision.allowed:
                return _hold_and_substitute(
                    connection, config, worker, renderer(), claimed, decision.reason, now
                )
    return ClaimResult(claimed)


def _hold_and_substitute(
    connection: Connection,
    config: Config,
    worker: str,
    renderer: Renderer,
    claim: Claimed,
    reason: str,
    now: datetime,
) -> ClaimResult:
    """Hold the refused pitch; claim the next give that fits in its slot, if any."""
    hold_at_publish_time(connection, claim, reason, now)
    substitute = claim_substitute(connection, config, renderer, worker, claim, reason, now)
    held = Outcome(claim.post_id, claim.account, PostStatus.HELD, reason)
    return ClaimResult(substitute, held)


# --- publishing -----------------------------------------------------------------------
