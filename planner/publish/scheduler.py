"""``planner run``: APScheduler is the clock, the database is the source of truth.

A runner sweeps every ``sweep_seconds`` for plan changes, retries and lost claims, and arms
one wake-up at the next due instant. A wake-up (or a sweep) asks the database once which
accounts have a post due and hands each idle one to a bounded pool of ``[run] concurrency``
threads; an account's task claims its due posts in batches and publishes them in order, one
at a time, so a slow or rate-limited network never holds up the others. When an account has
nothing more due now, its task moves the wake-up earlier if its next post comes sooner.
With ``[feeds] refresh_minutes`` set, a job of its own syncs the feeds that are due, apart
from the publishing. ``planner run --once`` uses the same pool without APScheduler.
``SIGTERM``/``Ctrl-C`` stop the claiming, let in-flight posts finish (unstarted posts of a
batch are planned again) and exit 0.

On SQLite one runner owns the database (a lock file beside it); a second one refuses to
start. On PostgreSQL any number of runners share the work: claims lock rows with ``SKIP
LOCKED``, and each runner's heartbeat tells the others whether its claims are still live.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from planner.adapters.base import Adapter, resend_is_safe
from planner.config.settings import Config
from planner.publish.claims import Outcome
from planner.publish.pipeline import Publisher
from planner.publish.recovery import ensure_account_rows, mark_missed, recover
from planner.store.database import Database
from planner.store.models import PostStatus
from planner.store.models import Runner as RunnerRow
from planner.store.sqlite_lock import SQLiteRunnerLock

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


class Runner:
    """One ``planner run`` process."""

    def __init__(
        self,
        db: Database,
        config: Config,
        environ: Mapping[str, str],
        *,
        clock: Clock = utc_clock,
        adapters: Mapping[str, Adapter] | None = None,
        worker: str | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.publisher = Publisher(db, config, self.worker, environ, adapters, clock=clock)
        self.run = config.settings.run
        self._lock = (
            SQLiteRunnerLock(config.database_url) if db.engine.dialect.name == "sqlite" else None
        )
        self._stopping = threading.Event()
        # APScheduler's shutdown() holds its job-store lock while it waits for running jobs,
        # so a job that adds a job once shutdown has begun deadlocks the runner. Jobs add jobs
        # only under this lock and only while not stopping; serve() sets stopping under it.
        self._scheduling = threading.Lock()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._armed: datetime | None = None  # when the wake-up is armed for

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> list[Outcome]:
        """Take the lock (SQLite), register, recover lost claims and mark missed slots;
        return the claims found after a crash that now need a person."""
        for account in self.config.settings.accounts:
            self.publisher.adapter(account)  # a bad adapter setting fails here, not mid-run
        if self._lock is not None:
            self._lock.acquire()
        now = self.clock()
        with self.db.transaction() as session:
            session.execute(
                insert(RunnerRow).values(id=self.worker, started_at=now, heartbeat_at=now)
            )
        try:
            ensure_account_rows(self.db, self.config)
            return self.housekeeping()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with self.db.transaction() as session:
            session.execute(delete(RunnerRow).where(RunnerRow.id == self.worker))
        if self._lock is not None:
            self._lock.release()

    def housekeeping(self) -> list[Outcome]:
        """Heartbeat, recover claims of runners that are gone, mark missed slots; return the
        recovered claims that now need a person (a re-sent one is reported when it goes out)."""
        now = self.clock()
        stale = now - timedelta(seconds=max(90.0, 3 * self.run.sweep_seconds))
        with self.db.transaction() as session:
            beat = session.execute(
                update(RunnerRow)
                .where(RunnerRow.id == self.worker)
                .values(heartbeat_at=now)
                .returning(RunnerRow.id)
            ).first()
            if beat is None:  # taken for dead by another runner while it was slow
                session.execute(
                    insert(RunnerRow).values(id=self.worker, started_at=now, heartbeat_at=now)
                )
            live = set(session.scalars(select(RunnerRow.id).where(RunnerRow.heartbeat_at > stale)))
            # Runners whose heartbeat stopped are gone: their rows go (their claims are
            # recovered below, by whoever sweeps first).
            session.execute(
                delete(RunnerRow).where(
                    RunnerRow.heartbeat_at <= stale, RunnerRow.id != self.worker
                )
            )
        if self._lock is not None:
            # On SQLite this runner holds the file's lock: any other runner is gone, however
            # fresh its last heartbeat.
            live = set()
        live.add(self.worker)
        recovered = recover(self.db, now, live, self._may_resend)
        for outcome in recovered:
            log.warning("post %s of %s found claimed after a crash: now %s",
                        outcome.post_id, outcome.account, outcome.status)  # fmt: skip
        mark_missed(self.db, self.config, now)
        return [outcome for outcome in recovered if outcome.needs_a_person]

    def _may_resend(self, account: str, first_sent: datetime | None, now: datetime) -> bool:
        return resend_is_safe(self.publisher.adapter(account), first_sent, now)

    # --- publishing -----------------------------------------------------------------------

    def request_stop(self) -> None:
        """Claim nothing more; posts in flight finish (safe to call from a signal handler)."""
        self._stopping.set()

    def publish_account(self, account: str) -> list[Outcome]:
        """Publish the account's due posts in order until none is due (or we are stopping)."""
        return self._publish_account(account)[0]

    def _publish_account(self, account: str) -> tuple[list[Outcome], datetime | None]:
        """The outcomes, and when the account's next post is due (None: not known, e.g. it
        is paused or another runner has it)."""
        outcomes: list[Outcome] = []
        while not self._stopping.is_set():
            batch = self.publisher.claim_batch(account, self.clock())
            if not batch.claims:
                return outcomes, batch.next_due
            for n, result in enumerate(batch.claims):
                if result.held is not None:
                    outcomes.append(result.held)
                if result.post is None:
                    continue
                if self._stopping.is_set():
                    rest = [r.post for r in batch.claims[n:] if r.post is not None]
                    self.publisher.release(rest, self.clock())
                    return outcomes, None
                rest = [r.post for r in batch.claims[n + 1 :] if r.post is not None]
                try:
                    outcome = self.publisher.publish(result.post, self.clock())
                except BaseException:
                    # The rest of the batch would stay claimed, and the account blocked,
                    # for as long as this runner lives.
                    with contextlib.suppress(Exception):
                        self.publisher.release(rest, self.clock())
                    raise
                outcomes.append(outcome)
                if outcome.status != PostStatus.PUBLISHED:
                    # Later posts wait for this one (a retry keeps the account's order).
                    self.publisher.release(rest, self.clock())
                    break
        return outcomes, None

    def _publish_due(self, pool: ThreadPoolExecutor) -> list[Outcome]:
        """Publish every account's due posts, accounts in parallel on ``pool``."""
        now = self.clock()
        due = self.publisher.due_times()
        accounts = [a for a in self.config.settings.accounts if a in due and due[a] <= now]
        futures = [pool.submit(self.publish_account, account) for account in accounts]
        done: list[Outcome] = []
        for future in futures:
            done += future.result()
        return done

    def run_once(self) -> list[Outcome]:
        """Publish everything due now, accounts in parallel (``[run] concurrency`` at a
        time), and return what happened, account by account, claims found after a crash
        that now need a person included. After :meth:`request_stop` it claims nothing more
        and returns once the posts in flight are done."""
        done = self.start()
        try:
            with ThreadPoolExecutor(max_workers=self.run.concurrency) as pool:
                done += self._publish_due(pool)
            return done
        finally:
            self.stop()

    def serve(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; then finish in-flight posts and return."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self.start()
        self._pool = ThreadPoolExecutor(
            max_workers=self.run.concurrency, thread_name_prefix="publish"
        )
        # The scheduler's own jobs (the sweep and the wake-up) only query and hand accounts
        # to the pool; a wake-up may fire while a sweep runs, so two may run at once. The
        # feeds job (when configured) fetches on its own thread of the same executor.
        scheduler = BackgroundScheduler(
            executors={"default": {"type": "threadpool", "max_workers": 4}},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._scheduler = scheduler
        scheduler.add_job(
            self._sweep,
            IntervalTrigger(seconds=self.run.sweep_seconds, timezone=UTC),
            id="sweep",
            next_run_time=datetime.now(UTC),
        )
        refresh = self.config.settings.feeds.refresh_minutes
        if refresh is not None and self.config.settings.feeds.sources:
            # Its own job, apart from publishing: a slow feed never delays a post.
            scheduler.add_job(
                self._refresh_feeds,
                IntervalTrigger(minutes=refresh, timezone=UTC),
                id="feeds",
                next_run_time=datetime.now(UTC),
            )
        scheduler.start()
        log.info("runner %s started", self.worker)
        try:
            stop.wait()
        finally:
            with self._scheduling:
                self._stopping.set()
            log.info("stopping: no new claims; waiting for posts in flight")
            # Empty the job store first (this waits for the scheduler thread to finish a round
            # of due jobs): if shutdown() marked the scheduler stopped while that thread was
            # between starting a one-off job and removing it, the thread died on a
            # JobLookupError. Jobs already started keep running; shutdown waits for them.
            scheduler.remove_all_jobs()
            scheduler.shutdown(wait=True)
            self._pool.shutdown(wait=True)
            self.stop()
            log.info("runner %s stopped", self.worker)

    def _refresh_feeds(self) -> None:
        """Sync the feeds due a refresh (``[feeds] refresh_minutes``); a feed that fails is
        recorded for ``planner status`` and the runner goes on."""
        from planner.content.feed_sync import due_feeds, sync_feeds
        from planner.plan.sync_check import ItemChecker

        try:
            names = due_feeds(self.db, self.config, self.clock())
            if not names:
                return
            checker = ItemChecker(self.config)
            results = sync_feeds(
                self.db, self.config, self.clock(), names,
                check=lambda item: [message for _, _, message in checker.failures(item)],
            )  # fmt: skip
            for result in results:
                log.info("feed %s: %s (%d added, %d updated)", result.name,
                         result.error or result.result, result.added, result.updated)  # fmt: skip
        except Exception:  # a feed must never stop publishing
            log.exception("refreshing the feeds failed; the runner goes on")

    def _sweep(self) -> None:
        self.housekeeping()
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand every idle account with a post due to the pool; arm the wake-up at the next
        due instant of the others (one query for all accounts)."""
        with self._scheduling:
            self._armed = None  # this round arms the next one
        now = self.clock()
        due = self.publisher.due_times()
        later = []
        accounts = [a for a in self.config.settings.accounts if a in due]
        # Runners sharing a database start at different accounts, so that they meet less.
        random.shuffle(accounts)
        for account in accounts:
            if due[account] > now:
                later.append(due[account])
                continue
            with self._busy_lock:
                if account in self._busy:
                    continue
                self._busy.add(account)
            if not self._submit(account):
                with self._busy_lock:
                    self._busy.discard(account)
                return
        if later:
            self._wake_at(min(later))

    def _submit(self, account: str) -> bool:
        with self._scheduling:
            if self._stopping.is_set() or self._pool is None:
                return False
            self._pool.submit(self._publish_then_rearm, account)
            return True

    def _publish_then_rearm(self, account: str) -> None:
        next_due = None
        try:
            _, next_due = self._publish_account(account)
        except Exception:
            log.exception("publishing for %s failed", account)
        finally:
            with self._busy_lock:
                self._busy.discard(account)
        if next_due is not None:
            self._wake_at(next_due)

    def _wake_at(self, due: datetime) -> None:
        """Arm the wake-up at ``due`` unless one is armed earlier already."""
        from apscheduler.triggers.date import DateTrigger

        with self._scheduling:
            if self._stopping.is_set() or self._scheduler is None:
                return
            if self._armed is not None and self._armed <= due:
                return
            self._armed = due
            when = max(due, datetime.now(UTC))
            # A wake-up that comes while the last one still runs must not be skipped.
            self._scheduler.add_job(self._dispatch, DateTrigger(run_date=when, timezone=UTC),
                                    id="wake", replace_existing=True, max_instances=2)  # fmt: skip
