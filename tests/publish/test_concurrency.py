"""Planning and publishing at the same time, on SQLite and PostgreSQL, with real threads.

- a plan replacing the week while a runner claims one of its posts never sends a post twice;
- a post a runner has claimed stays where it is when the week is planned again;
- accounts due at the same instant, each pitch held at publish time: every slot gets its
  substitute;
- a crash between holding a pitch and claiming its substitute leaves the post planned, and
  the next claim does both.

Time is passed in; the only waiting is for a real lock another thread holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from planner.adapters.base import OutgoingPost, Published
from planner.config.settings import Config, load_config
from planner.plan.render import Renderer
from planner.plan.store import idempotency_key, plan_weeks
from planner.publish.claims import ClaimResult
from planner.publish.pipeline import Publisher
from planner.publish.recovery import ensure_account_rows
from planner.publish.scheduler import Runner
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus, PublishAttempt

from support.pipeline import Clock, sync_and_plan

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 2026-W50
BEFORE = MONDAY - timedelta(days=2)
W50 = (2026, 50)


class Recording:
    """An adapter that accepts every post and remembers each key it was sent."""

    supports_idempotency = True

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def validate(self, text: str) -> list[str]:
        return []

    def publish(self, post: OutgoingPost) -> Published:
        with self._lock:
            self.keys.append(post.idempotency_key)
        return Published(f"r{post.post_id}")


def workspace(folder: Path, db_url: str, accounts: list[str], balance: str = "") -> Config:
    (folder / "queue").mkdir()
    tips = "".join(
        f'[[item]]\nid = "tip-{n:02d}"\nkind = "help"\ntext = "Tip number {n}."\n\n'
        for n in range(40)
    )
    (folder / "queue" / "tips.toml").write_text(tips)
    account_tables = "".join(
        f'[accounts.{name}]\nnetwork = "outbox"\nslots = ["daily 09:00", "daily 15:00"]\n'
        for name in accounts
    )
    (folder / "planner.toml").write_text(
        f'timezone = "UTC"\n[database]\nurl = "{db_url}"\n'
        "[run]\nmin_spacing_seconds = 0\ngrace_minutes = 600\n" + balance + account_tables
    )
    config = load_config(folder / "planner.toml")
    db = open_database(db_url)
    try:
        ensure_account_rows(db, config)  # the rows a claim locks, as a runner's start makes
    finally:
        db.dispose()
    return config


@pytest.fixture
def db(tmp_path: Path, db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def posts(db: Database) -> list[tuple[int, str, datetime, str, str]]:
    with db.reading() as session:
        rows = session.execute(
            select(Post.id, Post.account, Post.slot_at, Post.status, Post.idempotency_key)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_plan_replacing_the_week_while_a_runner_claims_never_sends_a_post_twice(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    config = workspace(tmp_path, db_url, ["a"])
    sync_and_plan(config, BEFORE, [W50])
    adapter = Recording()
    runner = Runner(db, config, {}, clock=Clock(MONDAY), adapters={"a": adapter}, worker="r1")
    runner.start()
    publishing: list[threading.Thread] = []

    def claim_while_writing(step: str) -> None:
        # The plan has read the posts it replaces (Monday 09:00 among them, due for the
        # runner's clock) and is about to write: a runner claims now, on another connection.
        if step == "writing the plan":
            thread = threading.Thread(target=runner.publish_account, args=("a",))
            thread.start()
            publishing.append(thread)
            thread.join(timeout=1.5)  # it may go ahead, or wait for the plan's locks

    try:
        with db.transaction() as session:
            outcome = plan_weeks(session, config, [W50], BEFORE, progress=claim_while_writing)
        for thread in publishing:
            thread.join(timeout=60)
        runner.publish_account("a")
    finally:
        runner.stop()
    assert publishing and not publishing[0].is_alive()
    assert outcome.replaced > 0
    assert len(adapter.keys) == len(set(adapter.keys)) == 1
    by_key = {key: status for _, _, _, status, key in posts(db)}
    assert by_key[adapter.keys[0]] == PostStatus.PUBLISHED
    with db.reading() as session:
        orphans = session.scalar(
            select(func.count())
            .select_from(PublishAttempt)
            .where(PublishAttempt.post_id.not_in(select(Post.id)))
        )
    assert orphans == 0


def test_a_post_a_runner_has_claimed_stays_when_the_week_is_planned_again(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    config = workspace(tmp_path, db_url, ["a"])
    sync_and_plan(config, BEFORE, [W50])
    adapter = Recording()
    publisher = Publisher(db, config, "r1", {}, {"a": adapter})
    claim = publisher.claim("a", MONDAY)
    assert claim is not None and claim.post is not None
    with db.transaction() as session:
        outcome = plan_weeks(session, config, [W50], BEFORE)
    assert outcome.in_flight == 1
    at_slot = [p for p in posts(db) if p[1] == "a" and p[2] == MONDAY]
    assert [(p[0], p[3]) for p in at_slot] == [(claim.post.post_id, PostStatus.CLAIMED)]
    publisher.publish(claim.post, MONDAY)
    assert adapter.keys == [claim.post.idempotency_key]


HELD_BALANCE = '[balance]\ngive_to_pitch = "1:1"\nwindow_posts = 2\nmin_pitch_gap_hours = 0\n'
ACCOUNTS = [f"acct{n}" for n in range(6)]


def seed_pitches(db: Database, accounts: list[str], due: datetime) -> dict[str, int]:
    """Per account: a pitch published just before ``due`` and another one planned at ``due``,
    which the rule (1:1 over 2 posts) must refuse at publish time."""
    planned: dict[str, int] = {}
    with db.transaction() as session:
        for account in accounts:
            for n, (at, status) in enumerate(
                [(due - timedelta(hours=1), PostStatus.PUBLISHED), (due, PostStatus.PLANNED)]
            ):
                item_id = f"promo-{account}-{n}"
                session.add(Item(id=item_id, kind="promo", text=f"Buy {n}", source="test",
                                 content_hash="x", status=ItemStatus.PLANNED, created_at=BEFORE,
                                 updated_at=BEFORE))  # fmt: skip
                post = Post(item_id=item_id, account=account, slot_at=at, kind="promo",
                            is_pitch=True, text=f"Buy {n}", status=status,
                            published_at=at if status == PostStatus.PUBLISHED else None,
                            idempotency_key=idempotency_key(account, at, item_id),
                            created_at=BEFORE, updated_at=BEFORE)  # fmt: skip
                session.add(post)
                session.flush()
                planned[account] = post.id
    return planned


def test_accounts_due_together_each_get_a_substitute_for_their_held_pitch(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    config = workspace(tmp_path, db_url, ACCOUNTS, HELD_BALANCE)
    sync_and_plan(config, BEFORE, [])
    pitches = seed_pitches(db, ACCOUNTS, MONDAY)
    start = threading.Barrier(len(ACCOUNTS))
    results: dict[str, ClaimResult | None] = {}
    errors: list[BaseException] = []

    def claim(account: str) -> None:
        publisher = Publisher(db, config, f"runner-{account}", {}, {account: Recording()})
        start.wait()
        try:
            results[account] = publisher.claim(account, MONDAY)
        except BaseException as error:  # reported below, with the account
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(a,)) for a in ACCOUNTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for account in ACCOUNTS:
        result = results[account]
        assert result is not None and result.held is not None, account
        assert result.held.post_id == pitches[account]
        assert result.post is not None, f"{account}: the held pitch's slot stayed empty"
        assert (result.post.slot_at, result.post.is_pitch) == (MONDAY, False)
    statuses = {(p[1], p[2]): p[3] for p in posts(db) if p[2] == MONDAY and p[0] not in
                pitches.values()}  # fmt: skip
    assert statuses == {(account, MONDAY): PostStatus.CLAIMED for account in ACCOUNTS}


class CrashingRenderer(Renderer):
    """Dies while the substitute is rendered, as a process killed at that moment would."""

    def render(self, *args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt


def test_a_crash_between_holding_a_pitch_and_claiming_its_substitute_loses_nothing(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    config = workspace(tmp_path, db_url, ["a"], HELD_BALANCE)
    sync_and_plan(config, BEFORE, [])
    pitch = seed_pitches(db, ["a"], MONDAY)["a"]
    before = sorted(posts(db))
    crashing = Publisher(
        db, config, "r1", {}, {"a": Recording()}, renderer=CrashingRenderer.from_config(config)
    )
    with pytest.raises(KeyboardInterrupt):
        crashing.claim("a", MONDAY)
    assert sorted(posts(db)) == before  # the pitch is still planned: nothing half-done
    with db.reading() as session:
        assert session.get(Item, "promo-a-1").status == ItemStatus.PLANNED  # type: ignore[union-attr]
    result = Publisher(db, config, "r2", {}, {"a": Recording()}).claim("a", MONDAY)
    assert result is not None and result.held is not None and result.held.post_id == pitch
    assert result.post is not None and not result.post.is_pitch
