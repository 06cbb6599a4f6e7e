"""Publish due posts, each exactly once where the network allows it.

The database is the source of truth; a post goes through:

1. **claim** (:mod:`planner.publish.claiming`), in its own committed transaction, one
   account's posts one at a time and in slot order, by one runner, never closer than
   ``min_spacing_seconds`` (late posts never come as a burst);
2. **re-check** (:mod:`planner.publish.recheck`), in the claim's transaction: a pitch is
   checked again against what was actually *published*; if the rule now says no, the post is
   held and the next give item that fits is claimed on its slot instead.
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

Images: a post's images are read from ``item_media`` when it is published; each upload the
network took is recorded in ``post_media`` before the post is created, so a retry attaches
them instead of uploading them again (:mod:`planner.publish.media`).

Every method takes ``now``; only a runner's own clock, if given, dates the network's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, update

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
from planner.publish.claiming import Batch, claim_due, claim_next, due_times, release
from planner.publish.claims import UNCERTAIN, Claimed, ClaimResult, Outcome
from planner.publish.group_commit import GroupCommit, Rows
from planner.publish.media import outgoing_media, remember_upload, reuse_window
from planner.store.database import Database
from planner.store.models import (
    KEEP_OWN_DOMAIN_FLAG,
    AccountState,
    Item,
    ItemStatus,
    Post,
    PostStatus,
    PublishAttempt,
)

if TYPE_CHECKING:
    from planner.plan.render import Renderer

log = logging.getLogger(__name__)


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
        self._records = GroupCommit(db)

    # --- adapters -------------------------------------------------------------------------

    def adapter(self, account: str) -> Adapter:
        if account not in self._adapters:
            settings = self.config.account_settings(account)
            self._adapters[account] = make_adapter(settings, self.environ)
        return self._adapters[account]

    # --- claiming -------------------------------------------------------------------------

    def due_times(self) -> dict[str, datetime]:
        """When each configured account that is neither paused nor busy has its next post
        due (one query; see :func:`~planner.publish.claiming.due_times`)."""
        with self.db.reading() as session:
            times = due_times(session.connection(), self.run.min_spacing_seconds)
        return {a: t for a, t in times.items() if a in self.config.settings.accounts}

    def next_due(self, now: datetime) -> datetime | None:
        """When the next post of any unpaused, idle account becomes due (None: nothing
        planned)."""
        times = self.due_times().values()
        return min(times) if times else None

    def claim(self, account: str, now: datetime) -> ClaimResult | None:
        """Claim the account's next due post (see :func:`~planner.publish.claiming.claim_next`)."""
        return claim_next(self.db, self.config, self.worker, lambda: self.renderer, account, now)

    def claim_batch(self, account: str, now: datetime) -> Batch:
        """Claim the account's due posts, in order (see
        :func:`~planner.publish.claiming.claim_due`)."""
        return claim_due(self.db, self.config, self.worker, lambda: self.renderer, account, now)

    def release(self, claims: Sequence[Claimed], now: datetime) -> None:
        """Give back claimed posts this runner will not start: planned again."""
        release(self.db, self.worker, claims, now)

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
                f"an attempt {_ago(now - sent_maybe)} ago may have reached the network, "
                "which no longer remembers its idempotency key",
                now,
            )
        adapter = self.adapter(claim.account)
        problems = adapter.validate(claim.text)
        started = now
        try:
            if problems:
                raise Rejected("; ".join(problems))
            media, uploaded = (
                outgoing_media(self.db, claim.item_id, claim.post_id, reuse_window(adapter), now)
                if claim.has_media is not False
                else ((), {})
            )
            if media and getattr(adapter, "media_limits", None) is None:
                # Checked at sync; the account's network or credentials changed since.
                raise Rejected(
                    getattr(adapter, "media_unavailable", None)
                    or f"the item has images and account {claim.account!r} takes none"
                )

            def on_upload(position: int, remote_id: str) -> None:
                sha256 = media[position].sha256
                remember_upload(self.db, self.worker, claim.post_id, position, sha256, remote_id,
                                self._answered(now))  # fmt: skip

            published = adapter.publish(
                OutgoingPost(
                    post_id=claim.post_id,
                    account=claim.account,
                    text=claim.text,
                    idempotency_key=claim.idempotency_key,
                    url=claim.url,
                    kind=claim.kind,
                    item_id=claim.item_id,
                    media=media,
                    uploaded=uploaded,
                    on_upload=on_upload,
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
            from planner.plan.render import Renderer  # Jinja2: only when a post needs it

            self._renderer = Renderer.from_config(self.config)
        return self._renderer

    def _record_success(
        self, claim: Claimed, published: Published, started: datetime, now: datetime
    ) -> Outcome:
        # The commonest write of a run: prebuilt statements on a Core connection (no ORM
        # unit of work, no statement built per post), each run once for the records of
        # all the accounts' threads that share the transaction.
        self._records.run(Rows((
            (_PUBLISHED_POST, {"post_id": claim.post_id, "published_at": now,
                               "remote_id": published.remote_id, "remote_url": published.url,
                               "updated_at": now}),
            (_PUBLISHED_ITEM, {"item_id": claim.item_id, "last_published_at": now}),
            (_ACCOUNT_PUBLISHED, {"account_name": claim.account, "last_published_at": now}),
            (_ATTEMPT, self._attempt_row(claim, started, now, "published",
                                         remote_id=published.remote_id)),
        )))  # fmt: skip
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
            session.execute(
                _ATTEMPT, self._attempt_row(claim, started, now, outcome, error=str(error))
            )
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

    def _attempt_row(
        self,
        claim: Claimed,
        started: datetime,
        finished: datetime,
        outcome: str,
        *,
        remote_id: str | None = None,
        error: str | None = None,
    ) -> dict[str, object]:
        return {"post_id": claim.post_id, "started_at": started, "finished_at": finished,
                "outcome": outcome, "remote_id": remote_id, "error": error,
                "worker": self.worker}  # fmt: skip

    def resume_account(self, account: str) -> None:
        """Lift an auth pause (after the credentials were fixed)."""
        with self.db.transaction() as session:
            session.execute(
                update(AccountState)
                .where(AccountState.account == account)
                .values(paused=False, paused_reason=None, paused_at=None)
            )


_ATTEMPT = insert(PublishAttempt)
_PUBLISHED_POST = (
    update(Post)
    .where(Post.id == bindparam("post_id"))
    .values(
        status=PostStatus.PUBLISHED,
        published_at=bindparam("published_at"),
        remote_id=bindparam("remote_id"),
        remote_url=bindparam("remote_url"),
        next_attempt_at=None,
        updated_at=bindparam("updated_at"),
    )
)
_PUBLISHED_ITEM = (
    update(Item)
    .where(Item.id == bindparam("item_id"))
    .values(
        status=ItemStatus.PUBLISHED,
        status_reason=None,
        last_published_at=bindparam("last_published_at"),
        updated_at=bindparam("last_published_at"),
        **KEEP_OWN_DOMAIN_FLAG,
    )
)
_ACCOUNT_PUBLISHED = (
    update(AccountState)
    .where(AccountState.account == bindparam("account_name"))
    .values(last_published_at=bindparam("last_published_at"))
)


def _resolve_hint(why: str, claim: Claimed) -> str:
    return (
        f"{why}; check the account and run `planner resolve {claim.post_id} --published URL` "
        "or `--not-published`"
    )


def _ago(elapsed: timedelta) -> str:
    """``"75 min"``, ``"3.5 h"``: how long ago, in no time zone (reasons are read in every
    account's own zone)."""
    minutes = elapsed / timedelta(minutes=1)
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
