"""``planner simulate``: the real pipeline on a throw-away copy, driven by a virtual clock.

Every test runs on SQLite and PostgreSQL. The real database must come out byte-for-byte the
same, no outbox may appear in the workspace, and the temporary folder must be gone.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from planner.cli.simulate_cmd import simulate_command
from planner.config.settings import Config, load_config
from planner.plan.store import idempotency_key
from planner.reports.simulate.run import simulate_week
from planner.store.database import open_database
from planner.store.models import AccountState, Item, Post, PostStatus, PublishAttempt
from planner.store.models import Runner as RunnerRow

from support.pipeline import invoke, json_output, sync_and_plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue of 2026-W49; W50 is Mon 7 - Sun 13 Dec
W50 = (2026, 50)
# Sun 6 Dec, 21:00 in Berlin: a pitch published by hand just before the week.
LATE_PITCH = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def simulate(*args: str, config: Config | None = None, at: datetime = NOW) -> Result:
    return invoke(simulate_command, args, config=config, at=at)


def simulate_json(*args: str, config: Config | None = None, at: datetime = NOW) -> dict[str, Any]:
    return json_output(simulate("--format", "json", *args, config=config, at=at))


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The simulation's temporary folders go here, so a test can see they were removed."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def add_post(
    config: Config, item_id: str, at: datetime, *, status: str, pitch: bool = True
) -> None:
    """A post (and its item) written by hand, behind the planner's back."""
    kind = "promo" if pitch else "help"
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            if session.get(Item, item_id) is None:
                session.add(
                    Item(
                        id=item_id,
                        kind=kind,
                        text="by hand",
                        source="test",
                        content_hash="x",
                        status="planned",
                    )
                )
                session.flush()
            session.add(
                Post(
                    item_id=item_id,
                    account=next(iter(config.settings.accounts)),
                    slot_at=at,
                    kind=kind,
                    is_pitch=pitch,
                    text="by hand",
                    status=status,
                    published_at=at if status == "published" else None,
                    idempotency_key=idempotency_key("by-hand", at, item_id),
                )
            )
    finally:
        db.dispose()


def snapshot(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the pipeline writes to."""
    db = open_database(config.database_url)
    try:
        with db.engine.connect() as connection:
            tables = [
                model.__table__ for model in (Item, Post, AccountState, PublishAttempt, RunnerRow)
            ]
            return {
                table.name: [
                    tuple(row)
                    for row in connection.execute(select(table).order_by(*table.primary_key))
                ]
                for table in tables
            }
    finally:
        db.dispose()


def test_every_planned_post_goes_out_and_nothing_real_changes(
    workspace: Path, private_tmp: Path
) -> None:
    config = load_config(workspace / "planner.toml")
    sync_and_plan(config, NOW, [W50])
    before = snapshot(config)
    planned = {row[0]: row for row in before["posts"]}

    data = simulate_json("--week", "2026-W50")

    assert snapshot(config) == before
    assert not (workspace / "outbox.jsonl").exists()
    assert list(private_tmp.iterdir()) == []  # the copy and its outbox are gone
    (main,) = data["accounts"]
    assert {post["post"] for post in main["posts"]} == set(planned)
    assert all(post["status"] == "published" for post in main["posts"])
    assert all(post["before"] == "planned" for post in main["posts"])
    # Each went out at its slot (no spacing delay on this schedule), in time order.
    assert [post["at"] for post in main["posts"]] == [post["slot_at"] for post in main["posts"]]
    assert main["summary"] == {
        "published": 13,
        "held": 0,
        "failed": 0,
        "missed": 0,
        "not_sent": 0,
        "give": 11,
        "pitch": 2,
        "pitch_share": "2/13",
    }

    table = simulate("--week", "2026-W50")
    assert table.exit_code == 0
    assert "nothing was sent or changed" in table.output
    assert "summary: 13 published (11 give, 2 pitch: 2/13 = 15 %, target 4:1)" in table.output
    assert snapshot(config) == before


def test_a_pitch_the_published_history_refuses_is_held_and_its_slot_substituted(
    workspace: Path,
) -> None:
    config = load_config(workspace / "planner.toml")
    sync_and_plan(config, NOW, [W50])
    # Planned without it, the Tue 16:00 promo was 1/5; with this pitch published just before
    # the week, the publish-time re-check sees 2/6 over the last 10 posts.
    add_post(config, "free-tier", LATE_PITCH, status="published")
    before = snapshot(config)

    data = simulate_json("--week", "2026-W50")

    posts = data["accounts"][0]["posts"]
    (held,) = [post for post in posts if post["status"] == "held"]
    assert (held["item"], held["local_time"]) == (
        "launch-test-insights",
        "2026-12-08T16:00:00+01:00",
    )
    assert held["reason"] == (
        "held at publish time: pitch share would be 2/6 = 33 % > 20 % over the last 10 posts"
    )
    (substitute,) = [post for post in posts if post["post"] == held["substitute"]]
    assert substitute["post"] not in {row[0] for row in before["posts"]}  # made in the copy
    assert (substitute["status"], substitute["class"], substitute["before"]) == (
        "published",
        "give",
        None,
    )
    assert substitute["substitute_for"] == held["post"]
    assert substitute["slot_at"] == substitute["at"] == held["slot_at"]
    summary = data["accounts"][0]["summary"]
    assert (summary["published"], summary["held"], summary["pitch_share"]) == (13, 1, "1/13")
    assert snapshot(config) == before  # the real post is still planned

    table = " ".join(simulate("--week", "2026-W50").output.split())  # notes are wrapped
    assert "held at publish time: pitch share would be 2/6 = 33 % > 20 %" in table
    assert f"→ the slot went to post {substitute['post']} ({substitute['kind']}" in table
    assert f"substitute for post {held['post']}, held at publish time" in table


SMALL_CONFIG = """\
timezone = "UTC"

[database]
url = "{db_url}"

[balance]
give_to_pitch = "1:1"
window_posts = 2
window_days = 7
min_pitch_gap_hours = 0

[run]
grace_minutes = 60

[accounts.solo]
network = "console"
slots = ["mon 09:00", "tue 09:00 promo"]
"""

SMALL_QUEUE = """\
[[item]]
id = "tip-a"
kind = "help"
text = "Tip A: key the cache on the lock file."

[[item]]
id = "promo-b"
kind = "promo"
text = "Solo Pro is 20 % off."

[[item]]
id = "tip-c"
kind = "help"
text = "Tip C: fail fast."
"""


@pytest.fixture
def small(tmp_path: Path, db_url: str) -> Config:
    """One account with two slots: Mon (open) and Tue (promo), 1:1 over 2 posts / 7 days.

    Its network is the console, which prints every post to standard output: had the
    simulation used the real adapter, the JSON on standard output would not parse.
    """
    (tmp_path / "queue").mkdir()
    (tmp_path / "queue" / "items.toml").write_text(SMALL_QUEUE)
    path = tmp_path / "planner.toml"
    path.write_text(SMALL_CONFIG.format(db_url=db_url))
    config = load_config(path)
    sync_and_plan(config, NOW, [W50])
    return config


def post_json(
    post: int,
    slot: str,
    at: str | None,
    status: str,
    item: str,
    kind: str,
    text: str,
    reason: str | None,
    before: str | None = "planned",
    substitute_for: int | None = None,
    substitute: int | None = None,
) -> dict[str, Any]:
    return {
        "post": post,
        "slot_at": slot,
        "local_time": slot,
        "at": at,
        "status": status,
        "before": before,
        "item": item,
        "kind": kind,
        "class": "pitch" if kind == "promo" else "give",
        "forced": False,
        "text": text,
        "reason": reason,
        "substitute_for": substitute_for,
        "substitute": substitute,
    }


MON = "2026-12-07T09:00:00+00:00"
TUE = "2026-12-08T09:00:00+00:00"
HELD_REASON = "pitch share would be 2/3 = 67 % > 50 % over the last 7 days"


def test_json_is_pinned_on_a_small_week_with_a_held_pitch(small: Config) -> None:
    # Sun 6 Dec, published: Tue's promo then has 2 pitches in the 3 posts of the last 7 days.
    add_post(small, "by-hand", datetime(2026, 12, 6, 12, 0, tzinfo=UTC), status="published")
    data = simulate_json("--week", "2026-W50", config=small)
    assert data == {
        "week": "2026-W50",
        "now": "2026-12-01T09:00:00+00:00",
        "steps": 2,
        "step_limit_reached": False,
        "accounts": [
            {
                "account": "solo",
                "network": "console",
                "timezone": "UTC",
                "start": "2026-12-07T00:00:00+00:00",
                "end": "2026-12-14T00:00:00+00:00",
                "target": {"give": 1, "pitch": 1, "max_pitch_share": "1/2"},
                "posts": [
                    post_json(
                        1,
                        MON,
                        MON,
                        "published",
                        "tip-a",
                        "help",
                        "Tip A: key the cache on the lock file.",
                        "mix: help",
                    ),
                    post_json(
                        2,
                        TUE,
                        TUE,
                        "held",
                        "promo-b",
                        "promo",
                        "Solo Pro is 20 % off.",
                        f"held at publish time: {HELD_REASON}",
                        substitute=4,
                    ),
                    post_json(
                        4,
                        TUE,
                        TUE,
                        "published",
                        "tip-c",
                        "help",
                        "Tip C: fail fast.",
                        f"promo-b held at publish time ({HELD_REASON}); the slot went to help",
                        before=None,
                        substitute_for=2,
                    ),
                ],
                "summary": {
                    "published": 2,
                    "held": 1,
                    "failed": 0,
                    "missed": 0,
                    "not_sent": 0,
                    "give": 2,
                    "pitch": 0,
                    "pitch_share": "0/2",
                },
            }
        ],
    }


def test_a_run_starting_inside_the_week_misses_or_sends_late_like_a_real_one(
    small: Config,
) -> None:
    # Mon 10:30: Monday's 09:00 post is beyond the 60 min grace, Tuesday's is ahead.
    at = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    posts = simulate_json("--week", "this", config=small, at=at)["accounts"][0]["posts"]
    assert [(post["item"], post["status"]) for post in posts] == [
        ("tip-a", "missed"),
        ("promo-b", "held"),  # nothing published in its windows: 1/1 = 100 %
        ("tip-a", "published"),  # the missed item went back to the queue and took the slot
    ]
    assert "grace of 60 min ran out" in posts[0]["reason"]
    assert posts[0]["at"] == at.isoformat()
    # Within the grace, the post goes out late, at the simulated start.
    within = datetime(2026, 12, 7, 9, 40, tzinfo=UTC)
    posts = simulate_json("--week", "this", config=small, at=within)["accounts"][0]["posts"]
    assert (posts[0]["status"], posts[0]["at"]) == ("published", within.isoformat())


def test_the_loop_ends_with_posts_far_ahead_and_at_its_step_limit(small: Config) -> None:
    add_post(
        small, "far-away", datetime(2031, 1, 6, 9, 0, tzinfo=UTC), status="planned", pitch=False
    )
    data = simulate_json("--week", "2026-W50", config=small)
    assert data["steps"] == 2 and data["step_limit_reached"] is False
    assert "far-away" not in {post["item"] for post in data["accounts"][0]["posts"]}
    # A week with nothing planned ends at once; a week past the far post too.
    assert simulate_json("--week", "2030-W10", config=small)["steps"] == 0
    late = simulate_json("--week", "2031-W02", config=small)
    assert [post["status"] for post in late["accounts"][0]["posts"]] == ["published"]

    source = open_database(small.database_url)
    try:
        guarded = simulate_week(source, small, 2026, 50, NOW, max_steps=1)
    finally:
        source.dispose()
    assert (guarded.steps, guarded.step_limit_reached) == (1, True)
    (solo,) = guarded.accounts
    assert [post.status for post in solo.posts] == ["published", PostStatus.PLANNED]
    assert solo.posts[1].reason == "not reached: the simulation stopped at its step limit"


def test_a_paused_account_stays_paused_in_the_copy(small: Config) -> None:
    db = open_database(small.database_url)
    try:
        with db.transaction() as session:
            session.add(
                AccountState(
                    account="solo", paused=True, paused_reason="authentication failed: 401"
                )
            )
    finally:
        db.dispose()
    data = simulate_json("--week", "2026-W50", config=small)
    (solo,) = data["accounts"]
    assert [(post["status"], post["at"]) for post in solo["posts"]] == [("planned", None)] * 2
    assert {post["reason"] for post in solo["posts"]} == {
        "not sent: the account is paused (authentication failed: 401)"
    }
    assert (solo["summary"]["published"], solo["summary"]["not_sent"]) == (0, 2)


def test_bad_week_or_account_exits_2(small: Config) -> None:
    for args in (("--week", "2026-W60"), ("--account", "nobody"), ("--format", "ics")):
        result = simulate(*args, config=small)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
