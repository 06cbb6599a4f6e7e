"""The publish pipeline on SQLite and PostgreSQL: claims, the ratio re-check, retries,
pauses, missed slots, crash recovery and the runner lock. Time is passed in, never slept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from planner.adapters.base import OutgoingPost, Published
from planner.config.settings import Config, parse_config
from planner.errors import AuthFailed, RateLimited, Rejected, RunnerBusy, Transient, Uncertain
from planner.plan.store import idempotency_key
from planner.publish.claiming import Batch
from planner.publish.recheck import published_tracker
from planner.publish.resolve import resolve_post
from planner.publish.scheduler import Runner
from planner.store.database import Database, open_database
from planner.store.models import AccountState, Item, ItemStatus, Post, PostStatus, PublishAttempt
from planner.store.models import Runner as RunnerRow

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
min_spacing_seconds = 60
max_attempts = 3
retry_base_seconds = 60
retry_cap_seconds = 600
[accounts.a]
network = "outbox"
[accounts.b]
network = "outbox"
"""


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Config:
    text = CONFIG + f'\n[database]\nurl = "{db_url}"\n'
    return parse_config(text, tmp_path / "planner.toml")


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    yield database
    database.dispose()


def add_post(db: Database, account: str, at: datetime, *, pitch: bool = False,
             item: str | None = None, text: str = "hello") -> int:  # fmt: skip
    item_id = item or f"{account}-{at:%H%M%S}-{'p' if pitch else 'g'}"
    with db.transaction() as session:
        if session.get(Item, item_id) is None:
            session.add(Item(id=item_id, kind="promo" if pitch else "help", text=text,
                             source="test", content_hash="x", status=ItemStatus.PLANNED,
                             created_at=NOW, updated_at=NOW))  # fmt: skip
        post = Post(item_id=item_id, account=account, slot_at=at, kind="promo" if pitch else "help",
                    is_pitch=pitch, text=text, status=PostStatus.PLANNED,
                    idempotency_key=idempotency_key(account, at, item_id),
                    created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(post)
        session.flush()
        return post.id


def statuses(db: Database) -> dict[int, str]:
    with db.transaction() as session:
        return dict(session.execute(select(Post.id, Post.status)).all())  # type: ignore[arg-type]


def runner(db: Database, config: Config, clock: Clock, adapter: Scripted,
           worker: str = "w1") -> Runner:  # fmt: skip
    return Runner(db, config, {}, clock=clock, adapters={"a": adapter, "b": adapter},
                  worker=worker)  # fmt: skip


def run_at(db: Database, config: Config, when: datetime, adapter: Scripted) -> Runner:
    r = runner(db, config, Clock(when), adapter)
    r.run_once()
    return r


def test_due_posts_go_out_once_in_order_and_future_ones_wait(db: Database, config: Config) -> None:
    adapter = Scripted()
    first = add_post(db, "a", NOW - timedelta(minutes=5))
    second = add_post(db, "a", NOW - timedelta(minutes=1))
    later = add_post(db, "a", NOW + timedelta(hours=1))
    r = runner(db, config, Clock(NOW), adapter)
    r.run_once()
    # The second post is due but must keep the minimum spacing after the first.
    assert [p.post_id for p in adapter.sent] == [first]
    run_at(db, config, NOW + timedelta(minutes=1), adapter)
    assert [p.post_id for p in adapter.sent] == [first, second]
    assert statuses(db)[later] == PostStatus.PLANNED
    run_at(db, config, NOW + timedelta(minutes=2), adapter)
    assert len(adapter.sent) == 2
    with db.transaction() as session:
        post = session.get(Post, first)
        assert post is not None
        assert (post.status, post.remote_id, post.published_at) == ("published", f"r{first}", NOW)
        item = session.get(Item, post.item_id)
        assert item is not None and item.status == ItemStatus.PUBLISHED
        attempts = session.scalars(
            select(PublishAttempt.outcome).where(PublishAttempt.post_id == first)
        )
        assert list(attempts) == ["published"]


def test_accounts_do_not_wait_for_each_other(db: Database, config: Config) -> None:
    adapter = Scripted()
    add_post(db, "a", NOW - timedelta(minutes=1))
    add_post(db, "b", NOW - timedelta(minutes=1))
    run_at(db, config, NOW, adapter)
    assert sorted(p.account for p in adapter.sent) == ["a", "b"]


def test_a_pitch_is_held_at_publish_time_when_a_give_failed(db: Database, config: Config) -> None:
    # 1:1 over 4 posts: after one published give, a pitch would be 1/2 = 50 %: fine. But the
    # give before it was rejected, so the pitch would be 1/1 = 100 %: held.
    adapter = Scripted()
    adapter.script = [Rejected("duplicate content")]
    give = add_post(db, "a", NOW - timedelta(minutes=10))
    pitch = add_post(db, "a", NOW - timedelta(minutes=5), pitch=True)
    substitute_item = add_post(db, "b", NOW + timedelta(days=30), item="spare-help")  # queued give
    with db.transaction() as session:
        spare = session.get(Item, "spare-help")
        assert spare is not None
        spare.status = ItemStatus.QUEUED
        session.delete(session.get(Post, substitute_item))
    run_at(db, config, NOW, adapter)
    states = statuses(db)
    assert states[give] == PostStatus.FAILED
    assert states[pitch] == PostStatus.HELD
    with db.transaction() as session:
        held = session.get(Post, pitch)
        assert held is not None and held.reason is not None
        assert held.reason.startswith("held at publish time: pitch share would be 1/1 = 100 %")
        replacement = session.scalars(select(Post).where(Post.item_id == "spare-help")).one()
        assert (replacement.slot_at, replacement.status) == (
            NOW - timedelta(minutes=5),
            "published",
        )
    assert [p.item_id for p in adapter.sent] == ["spare-help"]


def test_status_writes_at_publish_time_keep_the_items_own_domain_flags(
    db: Database, config: Config
) -> None:
    # Publishing, a hold at publish time, its substitute and a missed slot change an item's
    # status, not its text: the flag a plan computed stays known (no recomputing next week).
    adapter = Scripted()
    adapter.script = [Rejected("duplicate content")]
    missed = add_post(db, "a", NOW - timedelta(minutes=45))  # beyond the grace: back to queue
    add_post(db, "a", NOW - timedelta(minutes=10))  # rejected: the pitch after it is held
    pitch = add_post(db, "a", NOW - timedelta(minutes=5), pitch=True)
    with db.transaction() as session:
        session.execute(update(Item).values(mentions_own_domain=False))
    run_at(db, config, NOW, adapter)
    states = statuses(db)
    assert (states[missed], states[pitch]) == (PostStatus.MISSED, PostStatus.HELD)
    # The missed post's item went back to the queue, then took the held pitch's slot.
    assert [p.item_id for p in adapter.sent] == ["a-081500-g"]
    with db.transaction() as session:
        items = dict(session.execute(select(Item.id, Item.status)).all())
        flags = dict(session.execute(select(Item.id, Item.mentions_own_domain)).all())
    assert items["a-081500-g"] == ItemStatus.PUBLISHED and ItemStatus.HELD in items.values()
    assert set(flags.values()) == {False}


def test_rate_limited_post_retries_at_the_reset_time(db: Database, config: Config) -> None:
    adapter = Scripted()
    reset = NOW + timedelta(minutes=15)
    adapter.script = [RateLimited(reset)]
    post = add_post(db, "a", NOW)
    run_at(db, config, NOW, adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and (row.status, row.next_attempt_at) == ("retry", reset)
    run_at(db, config, reset - timedelta(seconds=1), adapter)
    assert adapter.sent == []
    run_at(db, config, reset, adapter)
    assert [p.post_id for p in adapter.sent] == [post]


def test_transient_errors_back_off_then_fail(db: Database, config: Config) -> None:
    adapter = Scripted()
    adapter.script = [Transient("502"), Transient("timeout"), Transient("502")]
    post = add_post(db, "a", NOW)
    run_at(db, config, NOW, adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.next_attempt_at == NOW + timedelta(seconds=60)
    run_at(db, config, NOW + timedelta(seconds=60), adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.next_attempt_at == NOW + timedelta(seconds=60 + 120)
    run_at(db, config, NOW + timedelta(seconds=180), adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.status == PostStatus.FAILED
        assert row.reason == "temporary failure: 502 (gave up after 3 attempts)"


def test_auth_failure_pauses_the_account_and_keeps_its_posts(db: Database, config: Config) -> None:
    adapter = Scripted()
    adapter.by_account["a"] = [AuthFailed("401 invalid token")]
    post = add_post(db, "a", NOW)
    other = add_post(db, "b", NOW)
    r = run_at(db, config, NOW, adapter)
    assert statuses(db)[post] == PostStatus.PLANNED
    assert statuses(db)[other] == PostStatus.PUBLISHED
    with db.transaction() as session:
        state = session.get(AccountState, "a")
        assert state is not None and state.paused
        assert state.paused_reason == "authentication failed: 401 invalid token"
    run_at(db, config, NOW + timedelta(hours=2), adapter)
    assert statuses(db)[post] == PostStatus.PLANNED  # paused: kept, not even missed
    r.publisher.resume_account("a")
    run_at(db, config, NOW + timedelta(hours=2), adapter)
    # Resumed two hours late: beyond the grace, so the post is missed, not sent late.
    assert statuses(db)[post] == PostStatus.MISSED
    late = add_post(db, "a", NOW + timedelta(hours=2, minutes=-5))
    run_at(db, config, NOW + timedelta(hours=2), adapter)
    assert statuses(db)[late] == PostStatus.PUBLISHED


def test_downtime_within_grace_goes_out_late_spaced_and_beyond_grace_is_missed(
    db: Database, config: Config
) -> None:
    adapter = Scripted()
    lost = add_post(db, "a", NOW - timedelta(minutes=45))  # beyond the 30 min grace
    late1 = add_post(db, "a", NOW - timedelta(minutes=20))
    late2 = add_post(db, "a", NOW - timedelta(minutes=10))
    run_at(db, config, NOW, adapter)
    assert statuses(db)[lost] == PostStatus.MISSED
    assert [p.post_id for p in adapter.sent] == [late1]  # not a burst: spacing applies
    run_at(db, config, NOW + timedelta(seconds=60), adapter)
    assert [p.post_id for p in adapter.sent] == [late1, late2]
    with db.transaction() as session:
        missed = session.get(Post, lost)
        assert (
            missed is not None and missed.reason is not None and "grace of 30 min" in missed.reason
        )
        item = session.get(Item, missed.item_id)
        assert item is not None and item.status == ItemStatus.QUEUED


def test_a_rejected_text_fails_without_retry(db: Database, config: Config) -> None:
    adapter = Scripted()
    post = add_post(db, "a", NOW, text="x" * 300)
    run_at(db, config, NOW, adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and (row.status, row.reason) == (
            "failed",
            "rejected: too long for this network",
        )
    assert adapter.sent == []


def orphan(db: Database, post_id: int) -> None:
    with db.transaction() as session:
        row = session.get(Post, post_id)
        assert row is not None
        row.status, row.claimed_by, row.claimed_at = PostStatus.CLAIMED, "dead-runner", NOW


def test_a_claim_left_by_a_dead_runner_is_resent_through_an_idempotent_adapter(
    db: Database, config: Config
) -> None:
    adapter = Scripted(idempotent=True)
    post = add_post(db, "a", NOW)
    orphan(db, post)
    run_at(db, config, NOW + timedelta(minutes=1), adapter)
    assert [(p.post_id, p.idempotency_key) for p in adapter.sent] == [
        (post, idempotency_key("a", NOW, f"a-{NOW:%H%M%S}-g"))
    ]


def test_a_claim_left_by_a_dead_runner_is_unknown_without_idempotency(
    db: Database, config: Config
) -> None:
    adapter = Scripted(idempotent=False)
    post = add_post(db, "a", NOW)
    orphan(db, post)
    run_at(db, config, NOW + timedelta(minutes=1), adapter)
    assert adapter.sent == [] and statuses(db)[post] == PostStatus.UNKNOWN
    with db.transaction() as session:
        resolve_post(session, post, NOW, published_url=None)
    run_at(db, config, NOW + timedelta(minutes=2), adapter)
    assert [p.post_id for p in adapter.sent] == [post]


def test_resolve_as_published_records_the_url(db: Database, config: Config) -> None:
    post = add_post(db, "a", NOW)
    orphan(db, post)
    run_at(db, config, NOW, Scripted(idempotent=False))
    with db.transaction() as session:
        resolve_post(session, post, NOW, published_url="https://net.example/42")
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and (row.status, row.remote_url) == (
            "published",
            "https://net.example/42",
        )


def test_a_second_runner_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    config = parse_config(CONFIG, tmp_path / "planner.toml")
    db = open_database(config.database_url)
    first = Runner(db, config, {}, clock=Clock(NOW), worker="one")
    first.start()
    try:
        with pytest.raises(RunnerBusy, match="already publishing from this database"):
            Runner(db, config, {}, clock=Clock(NOW), worker="two").start()
    finally:
        first.stop()
    Runner(db, config, {}, clock=Clock(NOW), worker="three").run_once()  # free again
    db.dispose()


def test_two_runners_on_postgresql_publish_500_posts_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    text = CONFIG.replace("min_spacing_seconds = 60", "min_spacing_seconds = 0")
    accounts = "".join(f'\n[accounts.n{n}]\nnetwork = "outbox"\n' for n in range(10))
    config = parse_config(text + accounts + f'\n[database]\nurl = "{postgres_url}"\n',
                          tmp_path / "planner.toml")  # fmt: skip
    db = open_database(config.database_url)
    for n in range(500):
        add_post(db, f"n{n % 10}", NOW - timedelta(seconds=500 - n), item=f"i{n}")
    lock = threading.Lock()
    sent: list[OutgoingPost] = []

    class Shared(Scripted):
        def publish(self, post: OutgoingPost) -> Published:
            with lock:
                sent.append(post)
            return Published(f"r{post.post_id}")

    adapters = {f"n{n}": Shared() for n in range(10)}
    runners = [Runner(db, config, {}, clock=Clock(NOW), adapters=adapters, worker=f"w{k}")
               for k in range(2)]  # fmt: skip
    errors: list[BaseException] = []

    def work(r: Runner) -> None:
        try:
            r.run_once()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A runner skips accounts the other holds, so a second pass finishes any it skipped.
    for r in runners:
        r.run_once()
    assert errors == []
    ids = [p.post_id for p in sent]
    assert len(ids) == len(set(ids)) == 500
    assert set(statuses(db).values()) == {PostStatus.PUBLISHED}
    with db.transaction() as session:
        workers = set(session.scalars(select(PublishAttempt.worker)))
    assert workers <= {"w0", "w1"}
    db.dispose()


def test_accounts_publish_concurrently_under_the_scheduler(db: Database, config: Config) -> None:
    # Account a's network answers only once account b has published: one thread for both
    # accounts would wait out the timeout and fail the post.

    real_now = datetime.now(UTC)
    first = add_post(db, "a", real_now - timedelta(seconds=1))
    second = add_post(db, "b", real_now - timedelta(seconds=1))
    a, b = one_waits_for_the_other()
    r = Runner(db, config, {}, adapters={"a": a, "b": b}, worker="concurrent")
    stop = threading.Event()
    thread = threading.Thread(target=r.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while datetime.now(UTC) < deadline and len(a.sent) + len(b.sent) < 2:
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert [p.post_id for p in a.sent] == [first]
    assert [p.post_id for p in b.sent] == [second]
    assert not thread.is_alive()


def test_a_stop_while_a_job_rearms_the_wake_up_does_not_hang_the_runner(
    db: Database, config: Config
) -> None:
    # APScheduler's shutdown holds its job-store lock while it waits for running jobs: a job
    # that adds the wake-up after shutdown began would wait for that lock for ever.
    adapter = Scripted()
    add_post(db, "a", datetime.now(UTC) - timedelta(seconds=1))
    r = Runner(db, config, {}, adapters={"a": adapter, "b": adapter}, worker="rearm")
    stop = threading.Event()
    rearming = threading.Event()
    claim_batch = r.publisher.claim_batch

    def claim_held_until_stop(account: str, now: datetime) -> Batch:
        if not adapter.sent:
            return claim_batch(account, now)
        # The task that published finds nothing more due and is about to re-arm the
        # wake-up at its next post: stop the runner under it.
        rearming.set()
        stop.wait()
        threading.Event().wait(0.3)  # let serve() get into the scheduler's shutdown first
        return Batch([], now + timedelta(hours=1))

    r.publisher.claim_batch = claim_held_until_stop  # type: ignore[method-assign]
    thread = threading.Thread(target=r.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        assert rearming.wait(timeout=20)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(adapter.sent) == 1


def test_a_claim_older_than_the_networks_idempotency_window_is_not_resent(
    db: Database, config: Config
) -> None:
    adapter = Scripted(idempotent=True)
    adapter.idempotency_window = timedelta(hours=1)  # type: ignore[attr-defined]
    fresh = add_post(db, "a", NOW - timedelta(minutes=2))
    stale = add_post(db, "b", NOW - timedelta(minutes=2))
    orphan(db, fresh)
    orphan(db, stale)
    with db.transaction() as session:
        old = session.get(Post, stale)
        assert old is not None
        old.claimed_at = NOW - timedelta(hours=2)
    run_at(db, config, NOW, adapter)
    states = statuses(db)
    assert (states[fresh], states[stale]) == (PostStatus.PUBLISHED, PostStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(timedelta(minutes=59), PostStatus.PUBLISHED), (timedelta(minutes=61), PostStatus.UNKNOWN)],
)
def test_a_retry_after_an_uncertain_attempt_is_sent_only_while_the_key_is_remembered(
    db: Database, config: Config, retry_after: timedelta, expected: str
) -> None:
    # The first call may have published the post; then the network was down. Once the network
    # has forgotten the idempotency key (Mastodon: after an hour), a re-send could double it.
    adapter = Scripted(idempotent=True)
    adapter.idempotency_window = timedelta(hours=1)  # type: ignore[attr-defined]
    adapter.script = [Uncertain("connection closed before the answer"), Transient("503")]
    post = add_post(db, "a", NOW)
    run_at(db, config, NOW, adapter)  # uncertain: retry in 60 s
    run_at(db, config, NOW + timedelta(minutes=2), adapter)  # transient: retry in 120 s
    run_at(db, config, NOW + retry_after, adapter)
    assert statuses(db)[post] == expected
    assert len(adapter.sent) == (1 if expected == PostStatus.PUBLISHED else 0)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.reason is not None
        if expected == PostStatus.UNKNOWN:
            assert row.reason.startswith(
                "an attempt 61 min ago may have reached the network, which no "
                "longer remembers its idempotency key; check the account and run `planner "
                f"resolve {post} --published URL`"
            )
        outcomes = session.scalars(
            select(PublishAttempt.outcome).where(PublishAttempt.post_id == post)
            .order_by(PublishAttempt.id)
        ).all()  # fmt: skip
    assert outcomes[:2] == ["uncertain", "transient"]


def test_a_pitch_that_may_be_out_already_is_not_held_on_retry(db: Database, config: Config) -> None:
    # 1:1 over 4 posts. The pitch passed the re-check and its call ended uncertain; a pitch
    # published since would now refuse it. Holding it would plan its item again under a new
    # key, and the network could then have it twice: it is re-sent under its own key instead.
    adapter = Scripted(idempotent=True)
    adapter.script = [None, Uncertain("no answer within 10 s")]
    give = add_post(db, "a", NOW - timedelta(minutes=10))
    pitch = add_post(db, "a", NOW - timedelta(minutes=5), pitch=True)
    run_at(db, config, NOW - timedelta(minutes=5), adapter)  # the give
    run_at(db, config, NOW - timedelta(minutes=4), adapter)  # the pitch: uncertain
    other = add_post(db, "a", NOW - timedelta(minutes=3), pitch=True, item="forced-promo")
    with db.transaction() as session:  # a forced pitch published meanwhile
        forced = session.get(Post, other)
        assert forced is not None
        forced.forced, forced.status = True, PostStatus.PUBLISHED
        forced.published_at = NOW - timedelta(minutes=3)
    # A fresh pitch would be held now: 2/3 > 50 %.
    with db.engine.connect() as connection:
        assert not published_tracker(connection, config, "a", NOW).decide(NOW, True).allowed
    run_at(db, config, NOW, adapter)
    assert statuses(db)[pitch] == PostStatus.PUBLISHED
    assert [p.post_id for p in adapter.sent] == [give, pitch]
    assert adapter.sent[1].idempotency_key == idempotency_key(
        "a", NOW - timedelta(minutes=5), "a-085500-p"
    )


def test_a_recovered_claim_counts_as_an_uncertain_attempt(db: Database, config: Config) -> None:
    adapter = Scripted(idempotent=True)
    adapter.idempotency_window = timedelta(hours=1)  # type: ignore[attr-defined]
    adapter.script = [Transient("503")]
    post = add_post(db, "a", NOW)
    orphan(db, post)  # claimed at NOW by a runner that died mid-publish
    run_at(db, config, NOW + timedelta(minutes=30), adapter)  # re-sent: 503
    run_at(db, config, NOW + timedelta(minutes=61), adapter)  # past the hour since NOW
    assert statuses(db)[post] == PostStatus.UNKNOWN
    assert adapter.sent == []


@pytest.mark.parametrize(("idempotent", "expected"), [(True, "retry"), (False, "unknown")])
def test_an_uncertain_outcome_is_resent_only_where_the_network_is_idempotent(
    db: Database, config: Config, idempotent: bool, expected: str
) -> None:
    adapter = Scripted(idempotent=idempotent)
    adapter.script = [Uncertain("no answer within 10 s")]
    post = add_post(db, "a", NOW)
    run_at(db, config, NOW, adapter)
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.status == expected
        assert row.reason is not None and row.reason.startswith("outcome unknown: no answer")
    run_at(db, config, NOW + timedelta(hours=1), adapter)
    assert [p.post_id for p in adapter.sent] == ([post] if idempotent else [])


class SlowToFail(Scripted):
    """Fails transiently after the network took ``seconds`` to answer (the clock moves)."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def publish(self, post: OutgoingPost) -> Published:
        self.clock.now += timedelta(seconds=self.seconds)
        raise Transient("timed out")


def test_a_retry_waits_its_backoff_from_when_the_attempt_failed(
    db: Database, config: Config
) -> None:
    post = add_post(db, "a", NOW)
    clock = Clock(NOW)
    r = runner(db, config, clock, SlowToFail(clock, 50))
    r.run_once()
    with db.transaction() as session:
        row = session.get(Post, post)
        assert row is not None and row.status == PostStatus.RETRY
        # 50 s to time out, then the full 60 s backoff: not 10 s after the failure.
        assert row.next_attempt_at == NOW + timedelta(seconds=50 + 60)


def test_a_dead_runners_row_goes_once_its_heartbeat_expires(db: Database, config: Config) -> None:
    with db.transaction() as session:
        session.add(RunnerRow(id="dead", started_at=NOW - timedelta(hours=2),
                              heartbeat_at=NOW - timedelta(hours=1)))  # fmt: skip
        session.add(RunnerRow(id="alive", started_at=NOW, heartbeat_at=NOW - timedelta(seconds=5)))
    r = runner(db, config, Clock(NOW), Scripted(), worker="me")
    r.start()
    try:
        with db.transaction() as session:
            assert set(session.scalars(select(RunnerRow.id))) == {"alive", "me"}
            session.execute(delete(RunnerRow).where(RunnerRow.id == "me"))  # taken for dead
        r.housekeeping()
        with db.transaction() as session:
            assert "me" in set(session.scalars(select(RunnerRow.id)))  # registered again
    finally:
        r.stop()
