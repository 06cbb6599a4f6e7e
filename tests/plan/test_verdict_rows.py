"""A plan's verdicts are written as changes to the rows already there: a weekly plan names
mostly the pitches the last one named, for the same reasons, and leaves their rows alone.
On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from planner.config.settings import load_config
from planner.content.holds import hold_item
from planner.plan.model import ItemOn
from planner.plan.verdicts import write_verdicts
from planner.store.database import Database
from planner.store.models import AccountPlan, ItemAccountState, PlanningState

from support.example_queue import synced_database

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
MAIN = "main"
Row = tuple[str | None, str | None, bool, datetime]


@dataclass
class Verdicts:
    held: dict[ItemOn, str] = field(default_factory=dict)
    waiting: dict[ItemOn, str] = field(default_factory=dict)
    expired: dict[ItemOn, str] = field(default_factory=dict)
    skipped: dict[ItemOn, str] = field(default_factory=dict)
    unlisted: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def db(workspace: Path):  # type: ignore[no-untyped-def]
    database = synced_database(load_config(workspace / "planner.toml"), NOW)
    yield database
    database.dispose()


def rows(db: Database) -> dict[ItemOn, Row]:
    with db.reading() as session:
        found = session.execute(
            select(
                ItemAccountState.item_id,
                ItemAccountState.account,
                ItemAccountState.state,
                ItemAccountState.reason,
                ItemAccountState.manual_hold,
                ItemAccountState.updated_at,
            )
        )
        return {(r.item_id, r.account): (r.state, r.reason, r.manual_hold, r.updated_at)
                for r in found}  # fmt: skip


def write(db: Database, verdicts: Verdicts, now: datetime, placed: set[ItemOn] = set()) -> None:  # noqa: B006
    with db.transaction() as session:
        write_verdicts(session, [MAIN], verdicts, placed, now)


def test_a_plan_rewrites_only_the_verdicts_that_changed(db: Database) -> None:
    write(
        db,
        Verdicts(
            held={("free-tier", MAIN): "gap"},
            waiting={("annual-discount", MAIN): "no turn", ("case-study-acme", MAIN): "no turn"},
            expired={("webinar-dec", MAIN): "passed its not_after"},
            unlisted={MAIN: 3},
        ),
        NOW,
    )
    with db.transaction() as session:
        hold_item(session, "tip-timeouts", NOW, account=MAIN, accounts=[MAIN])
    write(
        db,
        Verdicts(
            held={("free-tier", MAIN): "gap"},  # the same: left alone
            waiting={("annual-discount", MAIN): "the rule is full"},  # a new reason
            skipped={("tip-timeouts", MAIN): "too long"},  # on a hold made by hand
            unlisted={MAIN: 1},
        ),  # case-study-acme named no more; the expiry stays
        LATER,
    )
    after = rows(db)
    assert after[("free-tier", MAIN)] == (PlanningState.HELD, "gap", False, NOW)
    assert after[("annual-discount", MAIN)] == (
        PlanningState.WAITING,
        "the rule is full",
        False,
        LATER,
    )
    assert ("case-study-acme", MAIN) not in after
    assert after[("webinar-dec", MAIN)][:3] == (
        PlanningState.EXPIRED,
        "passed its not_after",
        False,
    )
    assert after[("tip-timeouts", MAIN)][:3] == (PlanningState.SKIPPED, "too long", True)
    with db.reading() as session:
        assert session.scalar(select(AccountPlan.unlisted).where(AccountPlan.account == MAIN)) == 1


def test_verdicts_no_longer_given_leave_holds_made_by_hand_and_clear_a_placed_expiry(
    db: Database,
) -> None:
    with db.transaction() as session:
        hold_item(session, "tip-timeouts", NOW, account=MAIN, accounts=[MAIN])
    write(
        db,
        Verdicts(
            held={("tip-timeouts", MAIN): "gap"},
            expired={("webinar-dec", MAIN): "passed its not_after"},
        ),
        NOW,
    )
    write(db, Verdicts(), LATER, placed={("webinar-dec", MAIN)})  # its not_after moved
    after = rows(db)
    assert after[("tip-timeouts", MAIN)][:3] == (None, None, True)
    assert ("webinar-dec", MAIN) not in after


def test_another_accounts_verdicts_are_not_touched(db: Database) -> None:
    with db.transaction() as session:
        write_verdicts(session, ["ops"], Verdicts(held={("free-tier", "ops"): "gap"}), set(), NOW)
    write(db, Verdicts(), LATER)
    assert rows(db)[("free-tier", "ops")] == (PlanningState.HELD, "gap", False, NOW)
