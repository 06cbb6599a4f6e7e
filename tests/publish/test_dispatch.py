"""Dispatch on SQLite and PostgreSQL: an account's due posts are claimed in one batch and
published in order; accounts publish in parallel, ``[run] concurrency`` at a time, in
``planner run --once`` too; what a runner does not start goes back to the plan, whether it
stopped, a post failed or it died. Time is passed in, never slept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from planner.adapters.base import OutgoingPost, Published
from planner.config.settings import Config, parse_config
from planner.errors import DatabaseBusy, Transient
from planner.plan.store import idempotency_key
from planner.publish.pipeline import Publisher
from planner.publish.recovery import ensure_account_rows
from planner.publish.scheduler import Runner
from planner.store.database import Database, open_database
from planner.store.models import AccountState, Item, ItemStatus, Post, PostStatus, PublishAttempt

from support.pipeline import Clock
from support.scripted import Scripted, one_waits_for_the_other

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

CONFIG = """
timezone = "UTC"
[balance]
give_to_pitch = "1:1"
window_posts = 4
min_pitch_gap_hours = 0
[run]
grace_minutes = 30
min_spacing_seconds = 0
max_attempts = 3
concurrency = {concurrency}
"""


def make_config(tmp_path: Path, db_url: str, accounts: list[str], concurrency: int = 8) -> Config:
    text = CONFIG.format(concurrency=concurrency) + f'[database]\nurl = "{db_url}"\n'
    text += "".join(f'[accounts.{a}]\nnetwork = "outbox"\n' for a in accounts)
    return parse_config(text, tmp_path / "planner.toml")


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    return make_config(tmp_path, db_url, ["a", "b"])


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    ensure_account_rows(database, config)  # what a runner's start does
    yield database
    database.dispose()


def add_post(db: Database, account: str, at: datetime, *, pitch: bool = False) -> int:
    item_id = f"{account}-{at:%H%M%S}-{'p' if pitch else 'g'}"
    with db.transaction() as session:
        session.add(Item(id=item_id, kind="promo" if pitch else "help", text="hi", source="test",
                         content_hash="x", status=ItemStatus.PLANNED, created_at=NOW,
                         updated_at=NOW))  # fmt: skip
        post = Post(item_id=item_id, account=account, slot_at=at, kind="promo" if pitch else "help",
                    is_pitch=pitch, text="hi", status=PostStatus.PLANNED,
                    idempotency_key=idempotency_key(account, at, item_id),
                    created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(post)
        session.flush()
        return post.id


def rows(db: Database) -> dict[int, tuple[str, int, str | None]]:
    """Post id -> (status, attempts, claimed_by)."""
    with db.reading() as session:
        found = session.execute(select(Post.id, Post.status, Post.attempts, Post.claimed_by))
        return {row.id: (row.status, row.attempts, row.claimed_by) for row in found}


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def test_an_accounts_due_gives_are_claimed_in_one_batch_in_slot_order(
    db: Database, config: Config
) -> None:
    ids = [add_post(db, "a", NOW - minutes(n)) for n in (3, 2, 1)]
    later = add_post(db, "a", NOW + minutes(5))
    runner = Runner(db, config, {}, clock=Clock(NOW), adapters={"a": Scripted()}, worker="w")
    runner.start()
    try:
        batch = runner.publisher.claim_batch("a", NOW)
    finally:
        runner.stop()
    assert [r.post.post_id for r in batch.claims if r.post] == ids
    assert {rows(db)[i][0] for i in ids} == {PostStatus.CLAIMED}
    assert rows(db)[later][0] == PostStatus.PLANNED
    # While the batch is out, nothing more of the account is claimed, by anyone.
    assert Publisher(db, config, "other", {}).claim_batch("a", NOW).claims == []


def test_a_batch_stops_before_a_pitch_which_goes_alone_once_the_gives_are_out(
    db: Database, config: Config
) -> None:
    give = add_post(db, "a", NOW - minutes(3))
    pitch = add_post(db, "a", NOW - minutes(2), pitch=True)
    add_post(db, "a", NOW - minutes(1))
    publisher = Publisher(db, config, "w", {}, {"a": Scripted()})
    first = publisher.claim_batch("a", NOW)
    assert [r.post.post_id for r in first.claims if r.post] == [give]
    assert first.claims[0].post is not None
    publisher.publish(first.claims[0].post, NOW)
    second = publisher.claim_batch("a", NOW)
    # The pitch was re-checked against what was published: 1 give, 1 pitch is 1:1.
    assert [(r.post.post_id if r.post else None, r.held) for r in second.claims] == [(pitch, None)]


def test_spaced_posts_are_claimed_one_at_a_time(tmp_path: Path, db_url: str) -> None:
    config = parse_config(
        CONFIG.format(concurrency=4).replace("min_spacing_seconds = 0", "min_spacing_seconds = 60")
        + f'[database]\nurl = "{db_url}"\n[accounts.a]\nnetwork = "outbox"\n',
        tmp_path / "planner.toml",
    )
    db = open_database(config.database_url)
    ensure_account_rows(db, config)
    try:
        first = add_post(db, "a", NOW - minutes(3))
        add_post(db, "a", NOW - minutes(2))
        publisher = Publisher(db, config, "w", {}, {"a": Scripted()})
        batch = publisher.claim_batch("a", NOW)
        assert [r.post.post_id for r in batch.claims if r.post] == [first]
        assert batch.claims[0].post is not None
        publisher.publish(batch.claims[0].post, NOW)
        waiting = publisher.claim_batch("a", NOW + timedelta(seconds=30))
        assert waiting.claims == [] and waiting.next_due == NOW + timedelta(seconds=60)
    finally:
        db.dispose()


def test_a_post_that_fails_gives_back_the_rest_of_its_batch(db: Database, config: Config) -> None:
    ids = [add_post(db, "a", NOW - minutes(n)) for n in (3, 2, 1)]
    adapter = Scripted()
    adapter.script = [Transient("try later")]
    runner = Runner(db, config, {}, clock=Clock(NOW), adapters={"a": adapter, "b": adapter})
    outcomes = runner.run_once()
    assert [(o.post_id, o.status) for o in outcomes] == [(ids[0], PostStatus.RETRY)]
    assert adapter.sent == []
    state = rows(db)
    assert state[ids[0]][:2] == (PostStatus.RETRY, 1)
    # The later posts wait behind the retry, as if never claimed.
    assert [state[i] for i in ids[1:]] == [(PostStatus.PLANNED, 0, None)] * 2


def test_a_runner_told_to_stop_finishes_the_post_in_flight_and_gives_back_the_rest(
    db: Database, config: Config
) -> None:
    ids = [add_post(db, "a", NOW - minutes(n)) for n in (3, 2, 1)]

    class StopsTheRunner(Scripted):
        def publish(self, post: OutgoingPost) -> Published:
            runner.request_stop()  # SIGTERM arrives while the first post is at the network
            return super().publish(post)

    adapter = StopsTheRunner()
    runner = Runner(db, config, {}, clock=Clock(NOW), adapters={"a": adapter, "b": adapter})
    outcomes = runner.run_once()
    assert [(o.post_id, o.status) for o in outcomes] == [(ids[0], PostStatus.PUBLISHED)]
    state = rows(db)
    assert [state[i] for i in ids[1:]] == [(PostStatus.PLANNED, 0, None)] * 2


@pytest.mark.parametrize("idempotent", [True, False])
def test_a_dead_runners_batch_is_recovered_post_by_post(
    db: Database, config: Config, idempotent: bool
) -> None:
    ids = [add_post(db, "a", NOW - minutes(n)) for n in (3, 2, 1)]
    dead = Publisher(db, config, "dead", {}, {"a": Scripted()})
    assert len(dead.claim_batch("a", NOW).claims) == 3  # then killed before any answer
    adapter = Scripted(idempotent=idempotent)
    runner = Runner(db, config, {}, clock=Clock(NOW + minutes(1)),
                    adapters={"a": adapter, "b": adapter}, worker="next")  # fmt: skip
    runner.run_once()
    state = rows(db)
    # Only the first can have been at the network: re-sent under its key, or unknown.
    assert state[ids[0]][0] == (PostStatus.PUBLISHED if idempotent else PostStatus.UNKNOWN)
    # The others were never started: sent once, as planned posts, whatever the network.
    assert [state[i][:2] for i in ids[1:]] == [(PostStatus.PUBLISHED, 1)] * 2
    sent = [p.post_id for p in adapter.sent]
    assert sent == (ids if idempotent else ids[1:])
    with db.reading() as session:
        uncertain = session.scalars(
            select(PublishAttempt.post_id).where(PublishAttempt.outcome == "uncertain")
        ).all()
    assert list(uncertain) == [ids[0]]


def test_run_once_publishes_accounts_in_parallel(db: Database, config: Config) -> None:
    # Account a's network answers only once account b has published: accounts one after
    # another would wait out the timeout and fail a's post.

    first = add_post(db, "a", NOW - minutes(1))
    second = add_post(db, "b", NOW - minutes(1))
    a, b = one_waits_for_the_other()
    outcomes = Runner(db, config, {}, clock=Clock(NOW), adapters={"a": a, "b": b}).run_once()
    assert {(o.post_id, o.status) for o in outcomes} == {
        (first, PostStatus.PUBLISHED),
        (second, PostStatus.PUBLISHED),
    }


def test_no_more_accounts_publish_at_once_than_the_concurrency(tmp_path: Path, db_url: str) -> None:
    accounts = ["a", "b", "c", "d", "e"]
    config = make_config(tmp_path, db_url, accounts, concurrency=2)
    db = open_database(config.database_url)
    lock = threading.Condition()
    in_flight = 0
    most = 0

    class Counting(Scripted):
        def publish(self, post: OutgoingPost) -> Published:
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
                lock.notify_all()
                # Wait for a third post in flight (there is none when the bound holds).
                lock.wait_for(lambda: in_flight > 2, timeout=0.3)
            try:
                return super().publish(post)
            finally:
                with lock:
                    in_flight -= 1

    try:
        for account in accounts:
            add_post(db, account, NOW - minutes(1))
        adapter = Counting()
        runner = Runner(db, config, {}, clock=Clock(NOW), adapters=dict.fromkeys(accounts, adapter))
        outcomes = runner.run_once()
    finally:
        db.dispose()
    assert len(outcomes) == len(accounts) == len(adapter.sent)
    assert most == 2


def test_due_times_names_idle_unpaused_accounts_with_a_post_planned(
    tmp_path: Path, db_url: str
) -> None:
    config = make_config(tmp_path, db_url, ["idle", "paused", "busy", "empty", "retry"])
    db = open_database(config.database_url)
    try:
        ensure_account_rows(db, config)
        add_post(db, "idle", NOW + minutes(5))
        add_post(db, "idle", NOW + minutes(9))
        add_post(db, "paused", NOW)
        add_post(db, "busy", NOW - minutes(2))
        add_post(db, "busy", NOW - minutes(1))
        retry = add_post(db, "retry", NOW - minutes(10))
        with db.transaction() as session:
            session.execute(
                update(AccountState).where(AccountState.account == "paused").values(paused=True)
            )
            session.execute(
                update(Post)
                .where(Post.id == retry)
                .values(status=PostStatus.RETRY, next_attempt_at=NOW + minutes(20))
            )
        Publisher(db, config, "w", {}).claim_batch("busy", NOW)
        due = Publisher(db, config, "w", {}).due_times()
    finally:
        db.dispose()
    assert due == {"idle": NOW + minutes(5), "retry": NOW + minutes(20)}


def test_a_record_that_cannot_be_written_gives_back_the_rest_of_the_batch(
    db: Database, config: Config
) -> None:
    ids = [add_post(db, "a", NOW - minutes(n)) for n in (3, 2, 1)]
    adapter = Scripted()
    runner = Runner(db, config, {}, clock=Clock(NOW), adapters={"a": adapter, "b": adapter},
                    worker="w")  # fmt: skip

    def locked_out(work: object) -> None:
        raise DatabaseBusy("the database stayed locked")

    runner.publisher._records.run = locked_out  # type: ignore[method-assign]
    with pytest.raises(DatabaseBusy):
        runner.run_once()
    state = rows(db)
    # The first post went out but its record did not: it stays claimed, for recovery.
    assert state[ids[0]][0] == PostStatus.CLAIMED
    # The others were never started and do not stay stuck behind it.
    assert [state[i] for i in ids[1:]] == [(PostStatus.PLANNED, 0, None)] * 2
