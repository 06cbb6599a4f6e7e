"""A hold by hand and a plan's verdicts on the same (item, account) at once, on PostgreSQL.

On SQLite a write transaction holds the database's one write lock, so the two take turns.
On PostgreSQL only rows are locked: each side reads that no row exists yet, and the one
that inserts second used to fail with a duplicate key (seen as a SQLAlchemy error from
`planner plan`, with `planner run` publishing and `planner hold` run alongside). Each side now
inserts or keeps the row: the hold stays, the verdict is recorded on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.config.settings import load_config
from planner.content.holds import hold_item
from planner.plan.model import ItemOn
from planner.plan.verdicts import write_verdicts
from planner.store.database import Database
from planner.store.models import ItemAccountState

from support.example_queue import synced_database
from support.lock_waits import first_then_second

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
    return synced_database(load_config(REPO / "config.example.toml"), NOW, url=postgres_url)


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
