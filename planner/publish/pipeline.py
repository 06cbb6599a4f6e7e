"""Publish due posts, each exactly once where the network allows it.

The database is the source of truth; a post goes through:

1. **claim**, in its own committed transaction: the account's row in ``account_states`` is
   locked first (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: ``BEGIN IMMEDIATE``), so
   one account's posts are claimed one at a time and in slot order, by one runner, however
   many runners share the database. Only the account's earliest unfinished post may be
   claimed, once it is due: its slot time (or retry time) has come, and the account's last
   post went out at least ``min_spacing_seconds`` ago (late posts never come as a burst).
2. **re-check** (:mod:`planner.publish.recheck`): a pitch is checked again against what was actually
   *published*; if the rule now says no, the post is held and its slot goes to the next give
   item that fits.
3. **publish** through the account's adapter, outside any transaction.
4. **record** the outcome and the attempt: published; ``retry`` at the rate-limit reset or
   after exponential backoff (then ``failed`` after ``max_attempts``); ``failed`` when
   rejected; on an auth failure the account is paused and the post goes back to ``planned``.

A post found ``claimed`` by a runner that is gone (crash, kill -9) is re-sent with the same
idempotency key when its adapter guarantees idempotency, and marked ``unknown`` otherwise:
a person decides (``planner resolve``), it is never silently sent twice (see
:mod:`planner.publish.recovery`, which also marks missed slots). The same holds for
an attempt whose answer was lost (``Uncertain``: a read timeout, a dropped connection). Such
attempts are logged as ``uncertain``; every later retry of the post goes under the same key,
skips the ratio re-check (the post may be out already) and becomes ``unknown`` once the
network's ``idempotency_window`` (Mastodon: one hour) has passed since the first of them.

Every function takes ``now``; nothing here reads the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, func, insert, select, update

from planner.adapters.base import Adapter, OutgoingPost, Published, resend_is_safe
from planner.adapters.registry import make_adapter
from planner.config.settings import Config
from planner.errors import (
    AuthFailed,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)
from planner.plan.render import Renderer
from planner.publish.claims import UNCERTAIN, Claimed, ClaimResult, Outcome
from planner.publish.recheck import claim_substitute, hold_at_publish_time, published_tracker
from planner.store.database import Database
from planner.store.models import (
    AccountState,
    Item,
    ItemStatus,
    Post,
    PostStatus,
    PublishAttempt,
)

log = logging.getLogger(__name__)

UNFINISHED = (PostStatus.PLANNED, PostStatus.RETRY)


class Publisher:
    """Claims, re-checks, publishes and records posts for one runner."""

    def __init__(
        self,
        db: Database,
        config: Config,
        worker: str,
        environ: Mapping[str, str],
        adapters: Mapping[str, Adapter] | None = None,
        *,
        renderer: Renderer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.worker = worker
        self.environ = environ
        self._adapters: dict[str, Adapter] = dict(adapters or {})
        self.run = config.settings.run
        self._renderer = renderer
        # Read once a network has answered, so that a retry's backoff counts from the
        # failure, not from the claim (a slow timeout would eat the wait). Without a clock
        # the answer is taken to come at the ``now`` the caller passed.
        self._clock = clock

    # --- adapters -------------------------------------------------------------------------

    def adapter(self, account: str) -> Adapter:
        if account not in self._adapters:
            settings = self.config.account_settings(account)
            self._adapters[account] = make_adapter(settings, self.environ)
        return self._adapters[account]

    # --- claiming -------------------------------------------------------------------------

    def next_due(self, now: datetime) -> datetime | None:
        """When the next post of any unpaused account becomes due (None: nothing planned)."""
        with self.db.engine.connect() as connection:
            times = [self._due_at(connection, account) for account in self.config.settings.accounts]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def _due_at(self, connection: Connection, account: str) -> datetime | None:
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
            due = max(
                due, state.last_published_at + timedelta(seconds=self.run.min_spacing_seconds)
            )
        return due

    def claim(self, account: str, now: datetime) -> ClaimResult | None:
        """Claim the account's next due post in its own committed transaction; None when
        nothing is due (or another runner holds the account).

        A pitch is checked against what was published in the same transaction: when the
        rule now refuses it, it is held and the next give that fits is claimed on its slot
        instead (``ClaimResult.held`` and ``ClaimResult.post``), all or nothing.
        """
        with self.db.write_connection() as connection, connection.begin():
            lock = select(AccountState.paused).where(AccountState.account == account)
            if connection.dialect.name == "postgresql":
                lock = lock.with_for_update(skip_locked=True)
            paused = connection.scalar(lock)
            if paused is None or paused:
                return None  # another runner holds the account, or it is paused
            due = self._due_at(connection, account)
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
                    claimed_by=self.worker,
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
                decision = published_tracker(connection, self.config, account, now).decide(
                    now, True
                )
                if not decision.allowed:
                    return self._hold_and_substitute(connection, claimed, decision.reason, now)
        return ClaimResult(claimed)

    def _hold_and_substitute(
        self, connection: Connection, claim: Claimed, reason: str, now: datetime
    ) -> ClaimResult:
        """Hold the refused pitch; claim the next give that fits in its slot, if any."""
        hold_at_publish_time(connection, claim, reason, now)
        substitute = claim_substitute(
            connection, self.config, self.renderer, self.worker, claim, reason, now
        )
        held = Outcome(claim.post_id, claim.account, PostStatus.HELD, reason)
        return ClaimResult(substitute, held)

    # --- publishing -----------------------------------------------------------------------

    def publish(self, claim: Claimed, now: datetime) -> Outcome:
        """Publish and record one claimed post (the ratio was checked by :meth:`claim`)."""
        sent_maybe = claim.maybe_sent_at
        if sent_maybe is not None and not resend_is_safe(
            self.adapter(claim.account), sent_maybe, now
        ):
            # An earlier attempt may have reached the network. Sending again is safe only
            # while it remembers the idempotency key.
            return self._mark_unknown(
                claim,
                f"an attempt at {sent_maybe:%Y-%m-%d %H:%M} UTC may have reached the "
                "network, which no longer remembers its idempotency key",
                now,
            )
        adapter = self.adapter(claim.account)
        problems = adapter.validate(claim.text)
        started = now
        try:
            if problems:
                raise Rejected("; ".join(problems))
            published = adapter.publish(
                OutgoingPost(
                    post_id=claim.post_id,
                    account=claim.account,
                    text=claim.text,
                    idempotency_key=claim.idempotency_key,
                    url=claim.url,
                    kind=claim.kind,
                    item_id=claim.item_id,
                )
            )
        except PublishError as error:
            return self._record_failure(claim, error, started, self._answered(now))
        except Exception as error:  # an adapter bug or an unmapped library error
            log.exception("adapter for %s raised an unexpected error", claim.account)
            return self._record_failure(
                claim, Transient(f"{type(error).__name__}: {error}"), started, self._answered(now)
            )
        return self._record_success(claim, published, started, self._answered(now))

    def _answered(self, now: datetime) -> datetime:
        return max(now, self._clock()) if self._clock is not None else now

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer.from_config(self.config)
        return self._renderer

    def _record_success(
        self, claim: Claimed, published: Published, started: datetime, now: datetime
    ) -> Outcome:
        with self.db.transaction() as session:
            session.execute(
                update(Post)
                .where(Post.id == claim.post_id)
                .values(
                    status=PostStatus.PUBLISHED,
                    published_at=now,
                    remote_id=published.remote_id,
                    remote_url=published.url,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
            session.execute(
                update(Item)
                .where(Item.id == claim.item_id)
                .values(
                    status=ItemStatus.PUBLISHED,
                    status_reason=None,
                    last_published_at=now,
                    updated_at=now,
                )
            )
            session.execute(
                update(AccountState)
                .where(AccountState.account == claim.account)
                .values(last_published_at=now)
            )
            self._attempt(session.connection(), claim, started, now, "published",
                          remote_id=published.remote_id)  # fmt: skip
        log.info("published post %s on %s: %s", claim.post_id, claim.account, published.remote_id)
        return Outcome(claim.post_id, claim.account, PostStatus.PUBLISHED, published=published)

    def _record_failure(
        self, claim: Claimed, error: PublishError, started: datetime, now: datetime
    ) -> Outcome:
        values: dict[str, object] = {"claimed_by": None, "updated_at": now, "reason": str(error)}
        pause: str | None = None
        if isinstance(error, RateLimited):
            outcome = "rate_limited"
            values.update(status=PostStatus.RETRY, next_attempt_at=max(error.reset_at, now))
        elif isinstance(error, AuthFailed):
            outcome, pause = "auth_failed", str(error)
            values.update(status=PostStatus.PLANNED, attempts=claim.attempts - 1)
        elif isinstance(error, Rejected):
            outcome = "rejected"
            values.update(status=PostStatus.FAILED)
        elif isinstance(error, Uncertain) and not self.adapter(claim.account).supports_idempotency:
            # The post may be out already: sending it again could post it twice.
            outcome = UNCERTAIN
            values.update(status=PostStatus.UNKNOWN, reason=_resolve_hint(str(error), claim))
        else:
            # Recorded as uncertain, not transient, so that a later retry knows when the
            # post may first have gone out (see _first_uncertain_send).
            outcome = UNCERTAIN if isinstance(error, Uncertain) else "transient"
            if claim.attempts >= self.run.max_attempts:
                gave_up = f"{error} (gave up after {claim.attempts} attempts)"
                values.update(status=PostStatus.FAILED, reason=gave_up)
            else:
                delay = min(
                    self.run.retry_cap_seconds,
                    self.run.retry_base_seconds * 2 ** (claim.attempts - 1),
                )
                values.update(
                    status=PostStatus.RETRY, next_attempt_at=now + timedelta(seconds=delay)
                )
        with self.db.transaction() as session:
            session.execute(update(Post).where(Post.id == claim.post_id).values(**values))
            if pause is not None:
                session.execute(
                    update(AccountState)
                    .where(AccountState.account == claim.account)
                    .values(paused=True, paused_reason=pause, paused_at=now)
                )
            self._attempt(session.connection(), claim, started, now, outcome, error=str(error))
        log.warning("post %s on %s: %s", claim.post_id, claim.account, error)
        return Outcome(
            claim.post_id,
            claim.account,
            str(values["status"]),
            str(error),
            paused_account=pause is not None,
        )

    def _mark_unknown(self, claim: Claimed, why: str, now: datetime) -> Outcome:
        reason = _resolve_hint(why, claim)
        with self.db.transaction() as session:
            session.execute(
                update(Post)
                .where(Post.id == claim.post_id)
                .values(status=PostStatus.UNKNOWN, reason=reason, claimed_by=None, updated_at=now)
            )
        log.warning("post %s on %s: %s", claim.post_id, claim.account, reason)
        return Outcome(claim.post_id, claim.account, PostStatus.UNKNOWN, reason)

    def _attempt(
        self,
        connection: Connection,
        claim: Claimed,
        started: datetime,
        finished: datetime,
        outcome: str,
        *,
        remote_id: str | None = None,
        error: str | None = None,
    ) -> None:
        connection.execute(
            insert(PublishAttempt).values(
                post_id=claim.post_id,
                started_at=started,
                finished_at=finished,
                outcome=outcome,
                remote_id=remote_id,
                error=error,
                worker=self.worker,
            )
        )

    def resume_account(self, account: str) -> None:
        """Lift an auth pause (after the credentials were fixed)."""
        with self.db.transaction() as session:
            session.execute(
                update(AccountState)
                .where(AccountState.account == account)
                .values(paused=False, paused_reason=None, paused_at=None)
            )


def _resolve_hint(why: str, claim: Claimed) -> str:
    return (
        f"{why}; check the account and run `planner resolve {claim.post_id} --published URL` "
        "or `--not-published`"
    )
