"""``planner resume ACCOUNT`` says when the account's posts will really go out, on SQLite and
PostgreSQL, and the runner then does what it said.

The solo week (Mon-Fri 09:00 in Berlin: tip-a, tip-b, promo-a, tip-c, an empty Friday) is
planned, the account paused by an authentication failure, and resumed on Wednesday 09:30:
Monday's and Tuesday's posts are past the 60-minute grace, Wednesday's is within it, and
Thursday's is the next one ahead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner, Result
from sqlalchemy import select

from planner.cli import main
from planner.config.settings import Config
from planner.store.database import open_database
from planner.store.models import AccountState, Post

from support.preview_weeks import solo, sync_and_plan

WEDNESDAY = datetime(2026, 12, 9, 8, 30, tzinfo=UTC)  # 09:30 in Berlin
AFTER_THE_WEEK = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)


def cli(config: Config, *args: str, at: datetime) -> Result:
    with time_machine.travel(at, tick=False):
        return CliRunner().invoke(main, ["--config", str(config.path), *args])


@pytest.fixture
def paused(tmp_path: Path, db_url: str) -> Config:
    config = solo(tmp_path, db_url)
    sync_and_plan(config)
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            session.merge(AccountState(account="solo", paused=True, paused_reason="401 revoked"))
    finally:
        db.dispose()
    return config


def test_resume_says_which_posts_go_out_late_which_are_missed_and_the_next_one(
    paused: Config,
) -> None:
    result = cli(paused, "resume", "solo", at=WEDNESDAY)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "solo resumed",
        "  1 post whose time passed less than 60 min ago: sent at the runner's next sweep "
        "(every 30 s while `planner run` runs), oldest first, 120 s apart, the ratio checked "
        "again",
        "  2 posts whose time passed more than 60 min ago: marked missed at the runner's next "
        "sweep, their items back in the queue",
        "  next planned post: Thu 2026-12-10 09:00 Europe/Berlin (tip-c)",
    ]
    # And the runner does what resume said: Wednesday's post is tried now, the ratio checked
    # again (with Monday's and Tuesday's gives missed, the promo is held and a give takes its
    # slot: tip-a, back in the queue since its own slot was missed), the older two are missed.
    run = cli(paused, "run", "--once", "--json", at=WEDNESDAY)
    assert run.exit_code == 0, run.output
    outcomes = json.loads(run.stdout)["outcomes"]
    # The held promo, then the give published in its slot.
    assert [outcome["status"] for outcome in outcomes] == ["held", "published"]
    db = open_database(paused.database_url)
    try:
        with db.transaction() as session:
            rows = session.execute(
                select(Post.item_id, Post.status).order_by(Post.slot_at, Post.id)
            ).all()
    finally:
        db.dispose()
    assert [tuple(row) for row in rows] == [
        ("tip-a", "missed"),
        ("tip-b", "missed"),
        ("promo-a", "held"),
        ("tip-a", "published"),
        ("tip-c", "planned"),
    ]


def test_resume_with_nothing_ahead_says_to_plan(paused: Config) -> None:
    result = cli(paused, "resume", "solo", at=AFTER_THE_WEEK)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "  4 posts whose time passed more than 60 min ago: marked missed at the runner's next "
        "sweep, their items back in the queue",
        "  no post planned ahead: run `planner plan`",
    ]
