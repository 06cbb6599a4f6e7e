"""``planner history``: the published posts of a range and the give:pitch ratio per period.

Every test runs on SQLite and PostgreSQL (the ``workspace`` fixture). The example workspace's
week 2026-W50 is planned from its queue and published through the real pipeline (a Runner on
a fixed clock, with a scripted in-process adapter); week 2026-W51 gets pitches inserted by
hand so that it breaks the rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from planner.adapters.base import OutgoingPost, Published
from planner.cli.history_cmd import history_command
from planner.config.settings import Config, load_config
from planner.content.media_limits import ANY_LIMITS
from planner.plan.store import idempotency_key
from planner.publish.scheduler import Runner
from planner.rule.balancer import max_window_share
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus

from support.pipeline import Clock, invoke, json_output, sync_and_plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # planning time: Tue of 2026-W49
LATER = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)  # Mon of 2026-W51, after its pitches
W50_END = datetime(2026, 12, 13, 23, 0, tzinfo=UTC)  # Mon 14 Dec 00:00 in Berlin
# Inserted by hand on Mon 14 Dec (Berlin 10:00 and 11:00): 3/10 over the last 10 posts.
EXTRA_PITCHES = (
    datetime(2026, 12, 14, 9, 0, tzinfo=UTC),
    datetime(2026, 12, 14, 10, 0, tzinfo=UTC),
)
ALT_ACCOUNT = """
[accounts.alt]
network = "outbox"
timezone = "America/New_York"
"""


class Scripted:
    """An in-process adapter that accepts every post (as in tests/publish/test_pipeline.py)."""

    supports_idempotency = True
    media_limits = ANY_LIMITS  # the example queue has an item with an image

    def __init__(self) -> None:
        self.sent: list[OutgoingPost] = []

    def validate(self, text: str) -> list[str]:
        return []

    def publish(self, post: OutgoingPost) -> Published:
        self.sent.append(post)
        return Published(f"r{post.post_id}", f"https://net.example/{post.post_id}")


def history(*args: str, at: datetime = LATER) -> Result:
    return invoke(history_command, args, at=at)


def history_json(*args: str, at: datetime = LATER) -> dict[str, Any]:
    return json_output(history("--json", *args, at=at))


def add_published(
    db: Database, account: str, at: datetime, item_id: str, *, pitch: bool, forced: bool = False
) -> None:
    """A published post written straight into the database, as if posted earlier."""
    kind = "promo" if pitch else "help"
    with db.transaction() as session:
        if session.get(Item, item_id) is None:
            session.add(
                Item(
                    id=item_id,
                    kind=kind,
                    text=f"{item_id} text",
                    source="test",
                    content_hash="x",
                    status=ItemStatus.PUBLISHED,
                )
            )
        session.add(
            Post(
                item_id=item_id,
                account=account,
                slot_at=at,
                kind=kind,
                is_pitch=pitch,
                forced=forced,
                text=f"{item_id} text",
                status=PostStatus.PUBLISHED,
                published_at=at,
                remote_url=f"https://net.example/{item_id}",
                idempotency_key=idempotency_key(account, at, item_id),
            )
        )


def publish_week(db: Database, config: Config) -> Scripted:
    """Publish 2026-W50 of "main" through the pipeline, the clock jumping from due to due."""
    adapter = Scripted()
    clock = Clock(NOW)
    runner = Runner(db, config, {}, clock=clock, adapters={"main": adapter}, worker="test")
    runner.start()
    try:
        while (due := runner.publisher.next_due(clock.now)) is not None and due < W50_END:
            clock.now = due
            runner.publish_account("main")
    finally:
        runner.stop()
    return adapter


@pytest.fixture
def seeded(workspace: Path) -> Iterator[Database]:
    """W50 of "main" planned and published; W51 with two extra pitches (one forced); and
    two posts on "alt", a New York account."""
    (workspace / "planner.toml").write_text((workspace / "planner.toml").read_text() + ALT_ACCOUNT)
    config = load_config(workspace / "planner.toml")
    sync_and_plan(config, NOW, [(2026, 50)], accounts=["main"])
    db = open_database(config.database_url)
    try:
        sent = publish_week(db, config)
        assert len(sent.sent) == 13
        add_published(db, "main", EXTRA_PITCHES[0], "extra-1", pitch=True)
        add_published(db, "main", EXTRA_PITCHES[1], "extra-2", pitch=True, forced=True)
        # 22:00 and 23:30 on Wed 9 Dec in New York: Thursday already in UTC.
        add_published(db, "alt", datetime(2026, 12, 10, 3, 0, tzinfo=UTC), "alt-1", pitch=False)
        add_published(db, "alt", datetime(2026, 12, 10, 4, 30, tzinfo=UTC), "alt-2", pitch=True)
        yield db
    finally:
        db.dispose()


def published_main(db: Database) -> list[tuple[datetime, bool]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Post.published_at, Post.is_pitch)
            .where(Post.account == "main", Post.status == PostStatus.PUBLISHED)
            .order_by(Post.published_at)
        ).all()
    return [(at, pitch) for at, pitch in rows if at is not None]


def test_weeks_report_counts_shares_and_the_rule_history_included(seeded: Database) -> None:
    data = history_json("--account", "main", "--since", "2026-12-07", "--until", "2026-12-14")
    assert [key for key in data] == [
        "since",
        "until",
        "by",
        "generated_at",
        "posts",
        "accounts",
        "ok",
    ]
    (main,) = data["accounts"]
    assert list(main) == ["account", "network", "timezone", "target", "periods", "total"]
    assert main["target"] == {"give": 4, "pitch": 1, "max_pitch_share": "1/5"}
    w50, w51 = main["periods"]
    # The published week keeps 4:1: Tue 16:00's window is 1/5 (Thu 16:00's 2/10 ties; the
    # first one is reported).
    assert w50 == {
        "period": "2026-W50",
        "from": "2026-12-07",
        "to": "2026-12-13",
        "give": 11,
        "pitch": 2,
        "forced": 0,
        "pitch_share": "2/13",
        "max_window_share": "1/5",
        "max_window_at": "2026-12-08T15:00:00+00:00",
        "within_rule": True,
    }
    # W51 (clipped to its Monday) counts W50's posts in its windows: 3/10 breaks the rule.
    assert w51 == {
        "period": "2026-W51",
        "from": "2026-12-14",
        "to": "2026-12-14",
        "give": 0,
        "pitch": 2,
        "forced": 1,
        "pitch_share": "2/2",
        "max_window_share": "3/10",
        "max_window_at": "2026-12-14T09:00:00+00:00",
        "within_rule": False,
    }
    assert main["total"]["max_window_share"] == "3/10" and main["total"]["within_rule"] is False
    assert data["ok"] is False
    # The same highest window as the balancer's reference recount over every published post.
    settings = load_config("planner.toml").balance_for("main")
    share, at = max_window_share(published_main(seeded), settings)
    assert (share, at) == (Fraction(3, 10), EXTRA_PITCHES[0])


def test_posts_are_listed_in_publish_order_with_class_url_and_forced_mark(
    seeded: Database,
) -> None:
    data = history_json("--account", "main", "--since", "2026-12-07", "--until", "2026-12-14")
    posts = data["posts"]
    assert len(posts) == 15
    assert [p["published_at"] for p in posts] == sorted(p["published_at"] for p in posts)
    first = posts[0]
    assert list(first) == [
        "post",
        "published_at",
        "local_time",
        "account",
        "kind",
        "class",
        "forced",
        "item",
        "remote_id",
        "remote_url",
        "text",
    ]
    assert first["local_time"] == "2026-12-07T09:00:00+01:00"
    assert first["remote_url"] == f"https://net.example/{first['post']}"
    assert [p["class"] for p in posts].count("pitch") == 4
    assert {p["kind"] for p in posts if p["class"] == "pitch"} == {"promo"}
    assert [p["item"] for p in posts if p["forced"]] == ["extra-2"]

    table = history("--account", "main", "--since", "2026-12-07", "--until", "2026-12-14")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0] == "published 2026-12-07 to 2026-12-14 (8 days): 15 posts"
    assert any("extra-2" in line and "pitch (forced)" in line for line in lines)
    assert f"https://net.example/{first['post']}" in table.output
    long_text = max(posts, key=lambda p: len(p["text"]))["text"]
    assert long_text not in table.output and "…" in table.output  # shortened in the table
    w51 = next(line for line in lines if line.strip().startswith("2026-W51"))
    assert "2/2 = 100 %" in w51 and "3/10 = 30 %" in w51
    # At 100 columns the verdict goes beneath its row rather than overflow the line.
    beneath = lines[lines.index(w51) + 1]
    assert beneath == "    BROKEN at Mon 2026-12-14 10:00 (1 forced)"
    assert max(len(line) for line in lines) <= 100
    w50 = next(line for line in lines if line.strip().startswith("2026-W50"))
    assert "2/13 = 15 %" in w50 and w50.endswith("within")


def test_account_filter_and_each_accounts_own_timezone(seeded: Database) -> None:
    only_alt = history_json("--account", "alt", "--since", "2026-12-09", "--until", "2026-12-09")
    # Wed 9 Dec in New York holds both alt posts (Thursday in UTC); main is not shown.
    assert [p["item"] for p in only_alt["posts"]] == ["alt-1", "alt-2"]
    assert [a["account"] for a in only_alt["accounts"]] == ["alt"]
    (day,) = only_alt["accounts"][0]["periods"]
    assert (day["give"], day["pitch"], day["pitch_share"]) == (1, 1, "1/2")
    assert only_alt["posts"][0]["local_time"] == "2026-12-09T22:00:00-05:00"

    both = history_json("--since", "2026-12-09", "--until", "2026-12-09")
    assert [a["account"] for a in both["accounts"]] == ["main", "alt"]
    assert {p["account"] for p in both["posts"]} == {"main", "alt"}
    # Main's Wednesday in Berlin: its 09:00 and 13:00 posts only.
    assert [p["local_time"][11:16] for p in both["posts"] if p["account"] == "main"] == [
        "09:00",
        "13:00",
    ]
    unknown = history("--account", "nobody")
    assert unknown.exit_code == 2 and "no account 'nobody'" in unknown.output


def test_a_range_inside_a_week_still_counts_the_history_before_it(seeded: Database) -> None:
    data = history_json("--account", "main", "--since", "2026-12-10", "--until", "2026-12-10")
    (period,) = data["accounts"][0]["periods"]
    assert (period["from"], period["to"], period["give"], period["pitch"]) == (
        "2026-12-10",
        "2026-12-10",
        2,
        1,
    )
    # Thursday's pitch is measured with Monday to Wednesday in its window: 2/10, not 1/3.
    assert period["max_window_share"] == "2/10" and period["within_rule"] is True
    days = history_json(
        "--account", "main", "--by", "day", "--since", "2026-12-13", "--until", "2026-12-14"
    )
    assert [
        (p["period"], p["give"], p["pitch"], p["within_rule"])
        for p in days["accounts"][0]["periods"]
    ] == [
        ("2026-12-13", 0, 0, True),
        ("2026-12-14", 0, 2, False),
    ]


def test_default_range_is_the_last_four_weeks(seeded: Database) -> None:
    data = history_json("--account", "main")
    assert (data["since"], data["until"], data["by"]) == ("2026-11-17", "2026-12-14", "week")
    labels = [p["period"] for p in data["accounts"][0]["periods"]]
    assert labels == ["2026-W47", "2026-W48", "2026-W49", "2026-W50", "2026-W51"]
    assert len(data["posts"]) == 15
    # Four weeks later W50 has left the range, and nothing was published since.
    later = history_json("--account", "main", at=LATER + timedelta(weeks=5))
    assert later["posts"] == [] and later["ok"] is True


@pytest.mark.parametrize(
    "args",
    [
        ("--since", "2026-13-01"),
        ("--until", "yesterday"),
        ("--since", "2026-12-10", "--until", "2026-12-01"),
        ("--since", "2027-01-01"),  # after today, the default end
        ("--by", "month"),
    ],
)
def test_bad_dates_exit_2(seeded: Database, args: tuple[str, ...]) -> None:
    result = history(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
