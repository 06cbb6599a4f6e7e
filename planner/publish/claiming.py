"""Claiming due posts: one account's next posts, taken in their own committed transaction.

The account's row in ``account_states`` is locked first (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``, so a runner never waits for an account another one is claiming; SQLite: ``BEGIN
IMMEDIATE``), so one account's posts are claimed in slot order, by one runner, however many
runners share the database. Only the account's earliest unfinished posts may be claimed, once
they are due: the slot time (or retry time) has come, and the account's last post went out at
least ``min_spacing_seconds`` ago; while an account has a claimed post, nothing more of it is
claimed.

A claim takes a *batch*: the earliest post and, when the account's posts need no spacing,
the planned gives due after it (:func:`claim_due`), so a runner asks the database once for
an account's due posts, not once per post. The runner publishes a batch in order, one post
at a time, recording each outcome before the next post starts, and gives back what it did
not start (:func:`release`). So of an account's claimed posts only the earliest can ever
be at the network: what crash recovery relies on (:mod:`planner.publish.recovery`).

A pitch is claimed only at the head of a batch, and alone: it is checked against what was
published in the same transaction (:mod:`planner.publish.recheck`); when the rule now
refuses it, it is held and the next give that fits is claimed on its slot instead, all or
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, and_, exists, func, select, update
from sqlalchemy.orm import aliased

from planner.config.settings import Config
from planner.publish.claims import UNCERTAIN, Claimed, ClaimResult, Outcome
from planner.publish.recheck import claim_substitute, hold_at_publish_time, published_tracker
from planner.store.batches import chunks
from planner.store.database import Database
from planner.store.models import (
    AccountState,
    Item,
    ItemMedia,
    Post,
    PostStatus,
    PublishAttempt,
)

if TYPE_CHECKING:  # Jinja2, loaded only when a claim re-renders a post
    from planner.plan.render import Renderer

UNFINISHED = (PostStatus.PLANNED, PostStatus.RETRY)
# Most posts one claim takes for one account: a batch is published one post at a time, so
# a long one only keeps the account's later posts claimed longer.
BATCH = 20


@dataclass(frozen=True)
class Batch:
    """What one claim took for an account, in publishing order, and, when it took nothing,
    when the account's next post becomes due (None: paused, busy or nothing planned)."""

    claims: list[ClaimResult]
    next_due: datetime | None = None


def _due(status: str, slot_at: datetime, next_attempt_at: datetime | None,
         last_published_at: datetime | None, spacing: float) -> datetime:  # fmt: skip
    due = slot_at
    if status == PostStatus.RETRY and next_attempt_at is not None:
        due = next_attempt_at
    if last_published_at is not None:
        due = max(due, last_published_at + timedelta(seconds=spacing))
    return due


def due_times(connection: Connection, min_spacing_seconds: float) -> dict[str, datetime]:
    """When each account's next post is due, for every account that is neither paused nor
    busy (a claimed post) and has one planned: one query for all accounts."""
    claimed = aliased(Post)
    # The head of each status on its own: an index seek each (account, status, slot_at), where
    # one "status IN (...) ORDER BY slot_at" walked the account's whole published history.
    heads = [
        _first_of(status).correlate(AccountState).scalar_subquery().label(status)
        for status in UNFINISHED
    ]
    busy = (
        exists()
        .where(claimed.account == AccountState.account, claimed.status == PostStatus.CLAIMED)
        .correlate(AccountState)
    )
    states = connection.execute(
        select(AccountState.account, AccountState.last_published_at, *heads).where(
            AccountState.paused.is_(False), ~busy
        )
    ).all()
    ids = {row.account: [post_id for post_id in row[2:] if post_id is not None] for row in states}
    wanted = [post_id for found in ids.values() for post_id in found]
    posts = {
        row.id: row
        for chunk in chunks(wanted)
        for row in connection.execute(
            select(Post.id, Post.status, Post.slot_at, Post.next_attempt_at).where(
                Post.id.in_(chunk)
            )
        )
    }
    due: dict[str, datetime] = {}
    for state in states:
        found = [posts[post_id] for post_id in ids[state.account] if post_id in posts]
        if not found:
            continue
        head = min(found, key=lambda post: (post.slot_at, post.id))
        due[state.account] = _due(head.status, head.slot_at, head.next_attempt_at,
                                  state.last_published_at, min_spacing_seconds)  # fmt: skip
    return due


def _first_of(status: str, account: str | None = None) -> Select[Any]:
    """The id of the account's first post (by slot, then id) in ``status``: the account of
    the enclosing ``AccountState`` row, or ``account``."""
    head = aliased(Post)
    owner = AccountState.account if account is None else account
    return (
        select(head.id)
        .where(head.account == owner, head.status == status)
        .order_by(head.slot_at, head.id)
        .limit(1)
    )


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
    heads = [
        row
        for status in UNFINISHED
        for row in connection.execute(
            select(Post.id, Post.status, Post.slot_at, Post.next_attempt_at).where(
                Post.id == _first_of(status, account).scalar_subquery()
            )
        )
    ]
    if not heads:
        return None
    head = min(heads, key=lambda post: (post.slot_at, post.id))
    return _due(head.status, head.slot_at, head.next_attempt_at, state.last_published_at,
                min_spacing_seconds)  # fmt: skip


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
    batch = claim_due(db, config, worker, renderer, account, now, limit=1)
    return batch.claims[0] if batch.claims else None


class _Replaced(Exception):
    """A post of the batch was replaced (re-planned) between reading and claiming it."""


def claim_due(
    db: Database,
    config: Config,
    worker: str,
    renderer: Callable[[], Renderer],
    account: str,
    now: datetime,
    *,
    limit: int = BATCH,
) -> Batch:
    """Claim up to ``limit`` of the account's due posts, in slot order, in one committed
    transaction (see the module's docstring for which posts a batch takes)."""
    try:
        with db.write_connection() as connection, connection.begin():
            return _claim_due(connection, config, worker, renderer, account, now, limit)
    except _Replaced:
        return Batch([])  # the plan that replaced it has committed: the next claim sees it


def _claim_due(
    connection: Connection,
    config: Config,
    worker: str,
    renderer: Callable[[], Renderer],
    account: str,
    now: datetime,
    limit: int,
) -> Batch:
    lock = select(AccountState.paused, AccountState.last_published_at).where(
        AccountState.account == account
    )
    if connection.dialect.name == "postgresql":
        lock = lock.with_for_update(skip_locked=True)
    state = connection.execute(lock).first()
    if state is None or state.paused:
        return Batch([])  # another runner holds the account, or it is paused
    if connection.scalar(
        select(exists().where(Post.account == account, Post.status == PostStatus.CLAIMED))
    ):
        return Batch([])  # a post of the account is in flight
    spacing = config.settings.run.min_spacing_seconds
    rows = connection.execute(
        select(
            Post.id, Post.status, Post.slot_at, Post.next_attempt_at, Post.is_pitch, Post.forced
        )  # fmt: skip
        .where(Post.account == account, Post.status.in_(UNFINISHED))
        .order_by(Post.slot_at, Post.id)
        .limit(limit)
    ).all()
    if not rows:
        return Batch([])
    head = rows[0]
    due = _due(head.status, head.slot_at, head.next_attempt_at, state.last_published_at, spacing)
    if due > now:
        return Batch([], due)
    take = [head.id]
    if spacing == 0 and not head.is_pitch:
        # Posts that need no spacing may go together; a pitch only at the head of a batch,
        # where it is re-checked against everything published before it.
        for row in rows[1:]:
            if row.status != PostStatus.PLANNED or row.is_pitch or row.slot_at > now:
                break
            take.append(row.id)
    # The posts must still be there and unfinished when they are claimed: a plan may have
    # replaced them since they were read (it then holds their rows until it commits).
    claimed_rows = connection.execute(
        update(Post)
        .where(Post.id.in_(take), Post.status.in_(UNFINISHED))
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
    ).all()
    if len(claimed_rows) != len(take):
        if not claimed_rows:
            return Batch([])
        raise _Replaced  # roll back: the batch would have a gap
    by_id = {row.id: row for row in claimed_rows}
    urls = dict(
        connection.execute(
            select(Item.id, Item.url).where(Item.id.in_({row.item_id for row in claimed_rows}))
        ).all()
    )
    with_media = set(
        connection.scalars(
            select(ItemMedia.item_id).where(
                ItemMedia.item_id.in_({row.item_id for row in claimed_rows}),
                ItemMedia.position == 0,
            )
        )
    )
    claims = []
    for post_id in take:
        claimed = by_id[post_id]
        maybe_sent_at = (
            connection.scalar(
                select(func.min(PublishAttempt.started_at)).where(
                    PublishAttempt.post_id == claimed.id, PublishAttempt.outcome == UNCERTAIN
                )
            )
            if claimed.attempts > 1
            else None
        )
        claims.append(
            Claimed(
                post_id=claimed.id,
                account=account,
                slot_at=claimed.slot_at,
                text=claimed.text or "",
                idempotency_key=claimed.idempotency_key,
                is_pitch=claimed.is_pitch,
                forced=claimed.forced,
                attempts=claimed.attempts,
                item_id=claimed.item_id,
                kind=claimed.kind,
                url=urls.get(claimed.item_id),
                maybe_sent_at=maybe_sent_at,
                has_media=claimed.item_id in with_media,
            )
        )
    first = claims[0]
    # A post that may be out already is not re-checked: holding it would plan its item
    # again under a new key.
    if first.is_pitch and not first.forced and first.maybe_sent_at is None:
        decision = published_tracker(connection, config, account, now).decide(now, True)
        if not decision.allowed:
            return Batch([_hold_and_substitute(
                connection, config, worker, renderer(), first, decision.reason, now
            )])  # fmt: skip
    return Batch([ClaimResult(claim) for claim in claims])


def release(db: Database, worker: str, claims: Sequence[Claimed], now: datetime) -> None:
    """Give back claimed posts this runner will not start (it is stopping, or an earlier
    post of the batch did not go out): planned again, as if never claimed."""
    ids = [claim.post_id for claim in claims]
    if not ids:
        return
    with db.transaction() as session:
        session.execute(
            update(Post)
            .where(
                and_(
                    Post.id.in_(ids),
                    Post.status == PostStatus.CLAIMED,
                    Post.claimed_by == worker,
                )
            )
            .values(
                status=PostStatus.PLANNED,
                claimed_by=None,
                claimed_at=None,
                attempts=Post.attempts - 1,
                updated_at=now,
            )
        )


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
