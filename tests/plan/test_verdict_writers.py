"""A hold by hand and a plan's verdicts on the same (item, account) at once, on PostgreSQL.

On SQLite a write transaction holds the database's one write lock, so the two take turns.
On PostgreSQL only rows are locked: each side reads that no row exists yet, and the one
that inserts second used to fail with a duplicate key (seen as a SQLAlchemy error from
`planner plan`, with `planner run` publishing and `planner hold` run alongside). Each side now
inserts or keeps the row: the hold stays, the verdict is recorded on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from planner.config.settings import load_config
from planner.content.files import queue_file_paths, read_queue_files, source_name
from planner.content.holds import hold_item
from planner.content.store import sync_items
from planner.plan.model import ItemOn
from planner.plan.verdicts import write_verdicts
from planner.store.database import Database, open_database
from planner.store.models import ItemAccountState

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ITEM, ACCOUNT = "free-tier", "main"  # a promo of the example queue, for every account
REASON = "pitch share would be 3/10 = 30 % > 20 % over the last 10 posts"


@dataclass
class Verdicts:
    held: dict[ItemOn, str] = field(default_factory=lambda: {(ITEM, ACCOUNT): REASON})
    waiting: dict[ItemOn, str] = field(default_factory=dict)
    expired: dict[ItemOn, str] = field(default_factory=dict)
    skipped: dict[ItemOn, str] = field(default_factory=dict)
    unlisted: dict[str, int] = field(default_factory=dict)


def holding(session: Session) -> None:
    hold_item(session, ITEM, NOW, account=ACCOUNT, accounts=[ACCOUNT])


def planning(session: Session) -> None:
    write_verdicts(session, [ACCOUNT], Verdicts(), set(), NOW)


def first_then_second(
    db_url: str, first: Callable[[Session], None], second: Callable[[Session], None]
) -> object:
    """Run ``first`` in a transaction left open until ``second``, in another, waits on it;
    then commit the first. Returns what the second ended with (None, or its exception)."""
    one, other = open_database(db_url), open_database(db_url)
    done_first, may_commit = threading.Event(), threading.Event()
    ended: dict[str, object] = {}

    def run_first() -> None:
        with one.transaction() as session:
            first(session)
            session.flush()
            done_first.set()
            may_commit.wait(30)

    def run_second() -> None:
        try:
            with other.transaction() as session:
                second(session)
            ended["second"] = None
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            ended["second"] = error

    holder = threading.Thread(target=run_first)
    holder.start()
    assert done_first.wait(30)
    waiter = threading.Thread(target=run_second)
    waiter.start()
    try:
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(one):
            assert time.monotonic() < deadline, "the second writer never waited"
            time.sleep(0.01)
    finally:
        may_commit.set()
        holder.join(30)
        waiter.join(30)
        one.dispose()
        other.dispose()
    return ended["second"]


def waiting_on_a_lock(db: Database) -> bool:
    with db.reading() as session:
        return bool(session.scalar(text(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            " and datname = current_database()"
        )))  # fmt: skip


def state(db: Database) -> tuple[bool, str | None, str | None]:
    with db.reading() as session:
        row = session.execute(
            select(
                ItemAccountState.manual_hold, ItemAccountState.state, ItemAccountState.reason
            ).where(ItemAccountState.item_id == ITEM, ItemAccountState.account == ACCOUNT)
        ).one()
    return row.manual_hold, row.state, row.reason


def synced(postgres_url: str) -> Database:
    """The example queue in a database of its own (PostgreSQL only: see the docstring)."""
    config = load_config(REPO / "config.example.toml")
    db = open_database(postgres_url)
    files = queue_file_paths([config.queue_path])
    sources = [source_name(f, config) for f in files]
    with db.transaction() as session:
        sync_items(session, read_queue_files(files, config), sources, NOW)
    return db


def test_a_plan_writing_its_verdict_after_a_hold_it_did_not_see_keeps_the_hold(
    postgres_url: str,
) -> None:
    db = synced(postgres_url)
    try:
        assert first_then_second(postgres_url, holding, planning) is None
        assert state(db) == (True, "held", REASON)
    finally:
        db.dispose()


def test_a_hold_after_a_plan_wrote_the_same_verdict_holds(
    postgres_url: str,
) -> None:
    db = synced(postgres_url)
    try:
        assert first_then_second(postgres_url, planning, holding) is None
        assert state(db) == (True, "held", REASON)
    finally:
        db.dispose()
