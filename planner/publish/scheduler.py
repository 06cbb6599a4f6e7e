"""``planner run``: APScheduler is the clock, the database is the source of truth.

A runner arms a wake-up at the next due instant (re-armed after every dispatch) and sweeps
every ``sweep_seconds`` for plan changes, retries and lost claims. Each account's posts go
out in order, one at a time, on a thread of their own, so a slow or rate-limited network
never holds up the others. ``SIGTERM``/``Ctrl-C`` stop the claiming, let in-flight posts
finish and exit 0.

On SQLite one runner owns the database (a lock file beside it); a second one refuses to
start. On PostgreSQL any number of runners share the work: claims lock rows with ``SKIP
LOCKED``, and each runner's heartbeat tells the others whether its claims are still live.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, insert, select, update

from planner.adapters.base import Adapter, resend_is_safe
from planner.config.settings import Config
from planner.publish.claims import Outcome
from planner.publish.pipeline import Publisher
from planner.publish.recovery import ensure_account_rows, mark_missed, recover
from planner.store.database import Database
from planner.store.models import Runner as RunnerRow
from planner.store.sqlite_lock import SQLiteRunnerLock

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

    def publish_account(self, account: str) -> list[Outcome]:
        """Publish the account's due posts in order until none is due (or we are stopping)."""
        outcomes = []
        while not self._stopping.is_set():
            claim = self.publisher.claim(account, self.clock())
            if claim is None:
                break
            if claim.held is not None:
                outcomes.append(claim.held)
            if claim.post is not None:
                outcomes.append(self.publisher.publish(claim.post, self.clock()))
        return outcomes

    def run_once(self) -> list[Outcome]:
        """Publish everything due now, account after account, and return what happened,
        claims found after a crash that now need a person included."""
        done = self.start()
        try:
            for account in self.config.settings.accounts:
                done += self.publish_account(account)
            return done
        finally:
            self.stop()

    def serve(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; then finish in-flight posts and return."""
        self.start()
        accounts = len(self.config.settings.accounts) or 1
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=min(accounts, 16) + 2)},
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
            self.stop()
            log.info("runner %s stopped", self.worker)

    def _sweep(self) -> None:
        self.housekeeping()
        self._dispatch()

    def _dispatch(self) -> None:
        for account in self.config.settings.accounts:
            with self._busy_lock:
                if account in self._busy:
                    continue
                self._busy.add(account)
            if not self._add_job(self._publish_then_rearm, args=[account]):
                with self._busy_lock:
                    self._busy.discard(account)
                return
        self._arm()

    def _publish_then_rearm(self, account: str) -> None:
        try:
            self.publish_account(account)
        except Exception:
            log.exception("publishing for %s failed", account)
        finally:
            with self._busy_lock:
                self._busy.discard(account)
            self._arm()

    def _arm(self) -> None:
        """(Re-)arm the wake-up at the next due instant."""
        if self._stopping.is_set():
            return
        due = self.publisher.next_due(self.clock())
        if due is None:
            return
        when = max(due, datetime.now(UTC))
        self._add_job(self._dispatch, DateTrigger(run_date=when, timezone=UTC), id="wake",
                      replace_existing=True)  # fmt: skip

    def _add_job(self, func: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
        """Add a job unless the runner is stopping; return whether it was added."""
        with self._scheduling:
            if self._stopping.is_set() or self._scheduler is None:
                return False
            self._scheduler.add_job(func, *args, **kwargs)
            return True
