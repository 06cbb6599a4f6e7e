"""``planner simulate``: a week through the real publish pipeline, on a throw-away copy.

The simulation never writes to the real database and never reaches a network:

1. **Copy.** A temporary SQLite database (in a temporary folder, removed afterwards) is brought
   to the schema with :func:`planner.store.database.upgrade_database`, and the rows that matter
   are copied into it from the real database (any backend; only read, with Core selects and
   batched inserts): the simulated accounts' posts from the start of the look-back (the longest
   of the balance window, the pitch gap, ``duplicate_url_days`` and 30 days before the week, and
   far enough back for the last ``window_posts`` published posts) to the week's end; the items
   those posts use, and every queued item (a pitch held at publish time gives its slot to the
   next queued give item); and the accounts' ``account_states`` (a paused account stays paused).
   With ``balance.scope = "brand"`` every account is copied and run, since each one's posts
   count in the others' windows; only the requested accounts are reported.
2. **Config.** A copy of the :class:`~planner.config.settings.Config` whose database is the
   copy, and an :class:`~planner.adapters.outbox.OutboxAdapter` for every account, writing
   to an outbox in the temporary folder: the real adapters, credentials and networks are never used.
3. **Clock.** A virtual clock starts at ``now`` (posts planned between ``now`` and the week go
   out first, as they would, so the week starts from the history it would really have) and
   jumps from one due instant to the next (:meth:`Publisher.next_due`), running housekeeping
   (missed slots, grace) and :meth:`Runner.publish_account` for every account at each, until
   nothing is due before the week's end. At most ``max_steps`` jumps (default: 10 per copied
   post), so the loop always ends; ``step_limit_reached`` says when the guard stopped it.
4. **Result.** Every post of each account's week, read back from the copy in time order,
   with the virtual time it went out (or its final status), the reason for a post held,
   failed or missed, and the post that took a held pitch's slot.

The pipeline's own log lines would describe the copy as if it were real ("post 12 missed its
slot"), so they are silenced while it runs; the result says everything they would.

Why this module is long: copying, driving and reading back are the three steps of one
run and share the copy's lifetime; the copy's queries and the read-back's are each short.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Connection, Table, and_, insert, or_, select

from planner.adapters.base import AccountSettings, Adapter
from planner.adapters.outbox import OutboxAdapter
from planner.config.schema import DatabaseConfig
from planner.config.settings import Config
from planner.plan.slots import iso_week_bounds
from planner.publish.scheduler import Runner
from planner.reports.preview.model import Share
from planner.rule.balancer import BalanceSettings
from planner.store.database import Database, open_database, upgrade_database
from planner.store.models import (
    ITEMS,
    POSTS,
    AccountState,
    ItemMedia,
    ItemStatus,
    Post,
    PostStatus,
)

BATCH = 500
MIN_LOOK_BACK = timedelta(days=30)
STEPS_PER_POST = 10
NOT_SENT = (PostStatus.PLANNED, PostStatus.RETRY, PostStatus.CLAIMED, PostStatus.UNKNOWN)

_STATES = cast(Table, AccountState.__table__)
_MEDIA = cast(Table, ItemMedia.__table__)


@dataclass(frozen=True)
class SimulatedPost:
    """One post of the simulated week, as it ended in the copy."""

    id: int  # the real post's id; a substitute gets an id of the copy only
    slot_at: datetime  # UTC
    local: datetime  # the slot in the account's timezone
    at: datetime | None  # when it went out or got its final status (None: left alone)
    status: str
    before: str | None  # its status in the real database; None for a substitute
    item: str
    kind: str
    class_: str  # "give" or "pitch" (posts.is_pitch)
    forced: bool
    text: str | None
    reason: str | None
    substitute_for: int | None  # the held post whose slot this one took
    substitute: int | None  # the post that took this held post's slot


@dataclass(frozen=True)
class AccountSimulation:
    account: str
    network: str
    timezone: str
    settings: BalanceSettings
    start: datetime  # the week, [start, end) in UTC
    end: datetime
    posts: list[SimulatedPost]

    def count(self, *statuses: str) -> int:
        return sum(1 for post in self.posts if post.status in statuses)

    @property
    def published(self) -> list[SimulatedPost]:
        return [post for post in self.posts if post.status == PostStatus.PUBLISHED]

    @property
    def achieved(self) -> Share:
        """Pitches among the posts that went out this week."""
        published = self.published
        return Share(sum(1 for post in published if post.class_ == "pitch"), len(published))

    @property
    def target(self) -> tuple[int, int]:
        return self.settings.give_to_pitch


@dataclass(frozen=True)
class Simulation:
    year: int
    week: int
    now: datetime
    accounts: list[AccountSimulation]
    steps: int
    step_limit_reached: bool

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"


class VirtualClock:
    """The simulation's clock: it says ``now`` until the loop moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def simulate_week(
    source: Database,
    config: Config,
    year: int,
    week: int,
    now: datetime,
    *,
    accounts: Sequence[str] | None = None,
    max_steps: int | None = None,
) -> Simulation:
    """Publish ISO week (year, week) of ``accounts`` (default: all) on a copy; see the module
    docstring. ``source`` is only read; nothing outside a temporary folder is written."""
    names = list(accounts or config.settings.accounts)
    run = list(config.settings.accounts) if config.settings.balance.scope == "brand" else names
    bounds = {name: iso_week_bounds(year, week, config.account_timezone(name)) for name in run}
    with tempfile.TemporaryDirectory(prefix="planner-simulate-") as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'simulate.db'}"
        upgrade_database(url)
        copy = open_database(url, create=False)
        try:
            before = copy_state(source, copy, config, bounds)
            limit = max_steps if max_steps is not None else STEPS_PER_POST * max(len(before), 1)
            sim_config = throwaway_config(config, url, run)
            clock = VirtualClock(now)
            adapters = outbox_adapters(sim_config, tmp / "outbox.jsonl", clock)
            end = max((end for _, end in bounds.values()), default=now)
            steps, limited = _drive(copy, sim_config, adapters, clock, end, limit)
            paused = _paused(copy)
            reports = [
                _read_account(copy, config, name, bounds[name], before, paused, limited)
                for name in names
            ]
        finally:
            copy.dispose()
    return Simulation(year, week, now, reports, steps, limited)


def throwaway_config(config: Config, database_url: str, accounts: Sequence[str]) -> Config:
    """``config`` with its database at ``database_url`` and only ``accounts``."""
    settings = config.settings.model_copy(
        update={
            "database": DatabaseConfig(url=database_url),
            "accounts": {name: config.settings.accounts[name] for name in accounts},
        }
    )
    return dataclasses.replace(config, settings=settings)


def outbox_adapters(config: Config, path: Path, clock: VirtualClock) -> dict[str, Adapter]:
    """An outbox adapter writing to ``path`` for every account (its real network on record)."""
    return {
        name: OutboxAdapter(
            AccountSettings(
                name, network=account.network, base_dir=path.parent, options={"path": str(path)}
            ),
            {},
            clock=clock,
        )
        for name, account in config.settings.accounts.items()
    }


# --- the copy -------------------------------------------------------------------------------


def look_back(connection: Connection, config: Config, account: str, start: datetime) -> datetime:
    """The earliest instant whose posts can matter to ``account``'s publishing from ``start``."""
    scope = config.settings.balance.scope
    settings = config.balance_for_brand() if scope == "brand" else config.balance_for(account)
    reach = max(
        MIN_LOOK_BACK,
        timedelta(days=settings.window_days or 0),
        timedelta(hours=settings.min_pitch_gap_hours or 0),
        timedelta(days=config.settings.plan.duplicate_url_days),
    )
    since = start - reach
    if settings.window_posts is not None:
        times = connection.scalars(
            select(Post.published_at)
            .where(
                Post.account == account,
                Post.status == PostStatus.PUBLISHED,
                Post.published_at < start,
            )
            .order_by(Post.published_at.desc())
            .limit(settings.window_posts)
        ).all()
        known = [at for at in times if at is not None]
        if known:
            since = min(since, known[-1])
    return since


def copy_state(
    source: Database,
    target: Database,
    config: Config,
    bounds: Mapping[str, tuple[datetime, datetime]],
) -> dict[int, str]:
    """Copy what the pipeline needs for ``bounds``' accounts and weeks from ``source`` into
    ``target`` (see the module docstring); return each copied post's id and status."""
    with source.engine.connect() as reader, target.engine.begin() as writer:
        ranges = []
        for account, (start, end) in bounds.items():
            since = look_back(reader, config, account, start)
            in_range = or_(
                and_(POSTS.c.slot_at >= since, POSTS.c.slot_at < end),
                and_(POSTS.c.published_at >= since, POSTS.c.published_at < end),
            )
            ranges.append(and_(POSTS.c.account == account, in_range))
        copied: set[str] = set()
        queued = (
            select(ITEMS)
            .where(ITEMS.c.status == ItemStatus.QUEUED)
            .execution_options(yield_per=BATCH)
        )
        for partition in reader.execute(queued).partitions():
            rows = [dict(row._mapping) for row in partition]
            writer.execute(insert(ITEMS), rows)
            copied.update(row["id"] for row in rows)
        posts = (
            [dict(row._mapping) for row in reader.execute(select(POSTS).where(or_(*ranges)))]
            if ranges
            else []
        )
        needed = sorted({post["item_id"] for post in posts} - copied)
        for start_at in range(0, len(needed), BATCH):
            chunk = needed[start_at : start_at + BATCH]
            found = reader.execute(select(ITEMS).where(ITEMS.c.id.in_(chunk)))
            writer.execute(insert(ITEMS), [dict(row._mapping) for row in found])
        # The copied items' images, so that posts go out with them as they will for real.
        items = sorted(copied | set(needed))
        for start_at in range(0, len(items), BATCH):
            chunk = items[start_at : start_at + BATCH]
            images = reader.execute(select(_MEDIA).where(_MEDIA.c.item_id.in_(chunk)))
            rows = [dict(row._mapping) for row in images]
            if rows:
                writer.execute(insert(_MEDIA), rows)
        for start_at in range(0, len(posts), BATCH):
            writer.execute(insert(POSTS), posts[start_at : start_at + BATCH])
        states = reader.execute(select(_STATES).where(_STATES.c.account.in_(list(bounds))))
        rows = [dict(row._mapping) for row in states]
        if rows:
            writer.execute(insert(_STATES), rows)
    return {post["id"]: post["status"] for post in posts}


# --- the clock loop -------------------------------------------------------------------------


def _drive(
    db: Database,
    config: Config,
    adapters: Mapping[str, Adapter],
    clock: VirtualClock,
    end: datetime,
    max_steps: int,
) -> tuple[int, bool]:
    """Jump the clock from due instant to due instant until ``end``; (steps, guard hit)."""
    with _quiet_pipeline():
        runner = Runner(db, config, {}, clock=clock, adapters=adapters, worker="simulate")
        runner.start()  # housekeeping at `now`: what a real run starting now would find
        try:
            steps = 0
            while True:
                due = runner.publisher.next_due(clock.now)
                if due is None or due >= end:
                    return steps, False
                if steps >= max_steps:
                    return steps, True
                clock.now = max(clock.now, due)
                runner.housekeeping()
                for account in config.settings.accounts:
                    runner.publish_account(account)
                steps += 1
        finally:
            runner.stop()


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _quiet_pipeline() -> Iterator[None]:
    loggers = [
        logging.getLogger(name)
        for name in ("planner.publish.pipeline", "planner.publish.scheduler")
    ]
    drop = _DropAll()
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


# --- reading the result back ----------------------------------------------------------------


def _paused(db: Database) -> dict[str, str]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(AccountState.account, AccountState.paused_reason).where(
                AccountState.paused.is_(True)
            )
        )
        return {row.account: row.paused_reason or "paused" for row in rows}


def _read_account(
    db: Database,
    config: Config,
    account: str,
    bounds: tuple[datetime, datetime],
    before: Mapping[int, str],
    paused: Mapping[str, str],
    limited: bool,
) -> AccountSimulation:
    start, end = bounds
    tz = config.account_timezone(account)
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(POSTS)
            .where(POSTS.c.account == account, POSTS.c.slot_at >= start, POSTS.c.slot_at < end)
            .order_by(POSTS.c.slot_at, POSTS.c.id)
        ).all()
    # A held pitch's substitute is a new post on its slot (see recheck.claim_substitute).
    new_by_slot: dict[datetime, list[int]] = {}
    for row in rows:
        if row.id not in before:
            new_by_slot.setdefault(row.slot_at, []).append(row.id)
    substitute_of: dict[int, int] = {}
    for row in rows:
        held_here = row.status == PostStatus.HELD and before.get(row.id) != PostStatus.HELD
        if held_here and new_by_slot.get(row.slot_at):
            substitute_of[row.id] = new_by_slot[row.slot_at].pop(0)
    held_for = {new: held for held, new in substitute_of.items()}
    posts = []
    for row in rows:
        was = before.get(row.id)
        status = row.status
        if status == PostStatus.PUBLISHED:
            at = row.published_at
        else:
            at = row.updated_at if status != was else None
        reason = row.reason
        if status in NOT_SENT:
            reason = _why_not_sent(account, paused, limited, row.reason, status)
        posts.append(
            SimulatedPost(
                id=row.id,
                slot_at=row.slot_at,
                local=row.slot_at.astimezone(tz),
                at=at,
                status=status,
                before=was,
                item=row.item_id,
                kind=row.kind,
                class_="pitch" if row.is_pitch else "give",
                forced=row.forced,
                text=row.text,
                reason=reason,
                substitute_for=held_for.get(row.id),
                substitute=substitute_of.get(row.id),
            )
        )
    scope = config.settings.balance.scope
    return AccountSimulation(
        account=account,
        network=config.settings.accounts[account].network,
        timezone=tz.key,
        settings=config.balance_for_brand() if scope == "brand" else config.balance_for(account),
        start=start,
        end=end,
        posts=posts,
    )


def _why_not_sent(
    account: str, paused: Mapping[str, str], limited: bool, reason: str | None, status: str
) -> str:
    if limited:
        return "not reached: the simulation stopped at its step limit"
    if account in paused:
        return f"not sent: the account is paused ({paused[account]})"
    if status == PostStatus.RETRY:
        return f"not sent before the week ended: {reason}"
    if status == PostStatus.UNKNOWN:
        return reason or "unknown"
    return "not due before the week ended"
