"""What a runner does besides publishing, at start and at every sweep.

- :func:`ensure_account_rows`: every configured account has its row in ``account_states``,
  the row a claim locks.
- :func:`mark_missed`: planned posts whose slot passed more than ``grace_minutes`` ago become
  ``missed`` and their items return to the queue.
- :func:`recover`: posts left ``claimed`` by a runner that is gone (crash, kill -9) are
  re-sent under the same idempotency key where that is safe, else marked ``unknown`` for a
  person (``planner resolve``). The interrupted call is logged as an ``uncertain`` attempt,
  so a later retry knows since when the post may be out. Only the earliest of an account's
  claimed posts can have been at the network (a runner publishes a claimed batch one post
  at a time, recording each before the next, see :mod:`planner.publish.claiming`): the
  later ones were never started and are simply planned again.

Every function takes ``now``; nothing here reads the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Executable, func, insert, select, update

from planner.config.settings import Config
from planner.publish.claims import UNCERTAIN, Outcome
from planner.store.database import Database
from planner.store.models import (
    KEEP_OWN_DOMAIN_FLAG,
    LIVE_STATUSES,
    AccountState,
    Item,
    ItemStatus,
    Post,
    PostStatus,
    PublishAttempt,
)

log = logging.getLogger(__name__)

# (account, when the post may first have gone out, now) -> may it be sent again?
ResendCheck = Callable[[str, datetime | None, datetime], bool]


def ensure_account_rows(db: Database, config: Config) -> None:
    """Every configured account has a row in account_states (the claim lock)."""
    # Several runners may start at once: insert-or-ignore, never check-then-insert.
    rows = [{"account": name, "paused": False} for name in config.settings.accounts]
    if not rows:
        return
    # Each dialect's module on first use: a SQLite runner need not load PostgreSQL's.
    if db.engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        statement: Executable = sqlite.insert(AccountState).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects import postgresql

        statement = postgresql.insert(AccountState).on_conflict_do_nothing()
    with db.transaction() as session:
        session.execute(statement, rows)


def mark_missed(db: Database, config: Config, now: datetime) -> list[int]:
    """Planned posts whose slot passed more than ``grace_minutes`` ago become ``missed``,
    and their items go back to the queue (posts of paused accounts are left alone)."""
    grace = config.settings.run.grace_minutes
    cutoff = now - timedelta(minutes=grace)
    with db.transaction() as session:
        # A paused account's posts stay planned: the pause, not the clock, holds them.
        paused = select(AccountState.account).where(AccountState.paused.is_(True))
        rows = session.execute(
            select(Post.id, Post.item_id, Post.slot_at).where(
                Post.status == PostStatus.PLANNED,
                Post.slot_at < cutoff,
                Post.account.not_in(paused),
            )
        ).all()
        for post_id, item_id, _slot_at in rows:
            session.execute(
                update(Post)
                .where(Post.id == post_id)
                .values(
                    status=PostStatus.MISSED,
                    reason=(
                        "missed: nothing was publishing at its slot "
                        f"and the grace of {grace:g} min ran out"
                    ),
                    updated_at=now,
                )
            )
            others = session.scalar(
                select(func.count())
                .select_from(Post)
                .where(
                    Post.item_id == item_id,
                    Post.id != post_id,
                    Post.status.in_(LIVE_STATUSES),
                )
            )
            if not others:
                session.execute(
                    update(Item)
                    .where(Item.id == item_id, Item.status == ItemStatus.PLANNED)
                    .values(
                        status=ItemStatus.QUEUED,
                        status_reason="its slot was missed",
                        **KEEP_OWN_DOMAIN_FLAG,
                    )
                )
    for post_id, _, slot_at in rows:
        log.warning("post %s missed its slot at %s", post_id, slot_at.isoformat())
    return [row[0] for row in rows]


def recover(
    db: Database, now: datetime, live_workers: set[str], may_resend: ResendCheck
) -> list[Outcome]:
    """Posts claimed by a runner that is gone: re-send (where ``may_resend``) or ``unknown``."""
    outcomes = []
    with db.transaction() as session:
        orphans = session.execute(
            select(Post.id, Post.account, Post.claimed_by, Post.claimed_at)
            .where(Post.status == PostStatus.CLAIMED)
            .order_by(Post.account, Post.slot_at, Post.id)
        ).all()
        started: set[str] = set()  # accounts whose earliest claimed post was seen
        for post_id, account, claimed_by, claimed_at in orphans:
            if claimed_by in live_workers:
                started.add(account)
                continue
            if account in started:
                # Claimed in the same batch as an earlier post and never started.
                session.execute(
                    update(Post)
                    .where(Post.id == post_id)
                    .values(
                        status=PostStatus.PLANNED,
                        claimed_by=None,
                        claimed_at=None,
                        attempts=Post.attempts - 1,
                        updated_at=now,
                    )
                )
                continue
            started.add(account)
            if may_resend(account, claimed_at, now):
                values = {
                    "status": PostStatus.RETRY,
                    "next_attempt_at": now,
                    "reason": f"re-sent after runner {claimed_by} stopped mid-publish "
                    "(same idempotency key)",
                }
            else:
                values = {
                    "status": PostStatus.UNKNOWN,
                    "reason": f"runner {claimed_by} stopped between calling the network "
                    "and recording the answer; check the account and run "
                    "`planner resolve POST --published URL` or `--not-published`",
                }
            session.execute(update(Post).where(Post.id == post_id).values(**values, updated_at=now))
            # The interrupted call may have reached the network: logged as an uncertain
            # attempt, so that a later retry knows since when (see Publisher.publish).
            session.execute(
                insert(PublishAttempt).values(
                    post_id=post_id,
                    started_at=claimed_at or now,
                    finished_at=now,
                    outcome=UNCERTAIN,
                    error=f"runner {claimed_by} stopped mid-publish",
                    worker=claimed_by,
                )
            )
            outcomes.append(Outcome(post_id, account, str(values["status"]), str(values["reason"])))
    return outcomes
