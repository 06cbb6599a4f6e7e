"""`planner run` as a real process: posts go out at their time, once, in order; SIGTERM ends
it cleanly; SIGKILL in the middle loses nothing and sends nothing twice.

These are the only tests that wait on the wall clock: they watch a real subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from planner.adapters import registry
from planner.config.settings import load_config
from planner.plan.store import idempotency_key
from planner.store.database import Database, open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus

from fakes.fake_feeds import Document, FakeFeeds
from fakes.fake_http import Received, Reply
from fakes.fake_webhook import FakeWebhook
from support.feeds import Entry, rss

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def write_config(folder: Path, account: str) -> Path:
    path = folder / "planner.toml"
    path.write_text(
        'timezone = "UTC"\n[run]\nsweep_seconds = 1\nmin_spacing_seconds = 0\n' + account
    )
    return path


def seed(db: Database, account: str, times: list[datetime], prefix: str = "") -> list[int]:
    ids = []
    with db.transaction() as session:
        for n, at in enumerate(times):
            item_id = f"{prefix}tip-{n}"
            session.add(Item(id=item_id, kind="help", text=f"tip number {n}", source="test",
                             content_hash="x", status=ItemStatus.PLANNED, created_at=at,
                             updated_at=at))  # fmt: skip
            post = Post(item_id=item_id, account=account, slot_at=at, kind="help",
                        is_pitch=False, text=f"tip number {n}", status=PostStatus.PLANNED,
                        idempotency_key=idempotency_key(account, at, item_id), created_at=at,
                        updated_at=at)  # fmt: skip
            session.add(post)
            session.flush()
            ids.append(post.id)
    return ids


def start(folder: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PLUGINS), "PLANNER_CONFIG": str(folder / "planner.toml")}
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "run", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


@pytest.fixture
def slow_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The slow adapter registered in this process too (the runner gets it via PYTHONPATH)."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    registry.refresh()
    yield
    monkeypatch.undo()
    registry.refresh()


def test_run_publishes_each_post_once_in_order_at_its_time_and_stops_on_sigterm(
    folder: Path,
) -> None:
    config = load_config(write_config(
        folder, '[accounts.main]\nnetwork = "outbox"\n[accounts.main.options]\npath = "out.jsonl"\n'
    ))  # fmt: skip
    db = open_database(config.database_url)
    first = datetime.now(UTC) + timedelta(seconds=3)
    slots = [first, first + timedelta(seconds=1), first + timedelta(seconds=2)]
    ids = seed(db, "main", slots)
    process = start(folder, "--verbose")
    try:
        outbox = folder / "out.jsonl"
        assert wait_for(lambda: len(lines(outbox)) >= 3, 30), process.stderr
        time.sleep(1.5)  # a duplicate would show up here
        records = lines(outbox)
        assert [r["post_id"] for r in records] == ids  # once each, in order
        with db.transaction() as session:
            published = dict(session.execute(select(Post.id, Post.published_at)).all())
        for post_id, slot in zip(ids, slots, strict=True):
            lateness = published[post_id] - slot
            print(f"post {post_id}: published {lateness.total_seconds():+.3f} s after its slot")
            assert timedelta(0) <= lateness < timedelta(seconds=10)  # never early
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "stopping: no new claims" in stderr
    with db.transaction() as session:
        assert set(session.scalars(select(Post.status))) == {PostStatus.PUBLISHED}
    db.dispose()


@pytest.mark.parametrize("idempotent", [True, False])
def test_sigkill_mid_publish_loses_nothing_and_sends_nothing_twice(
    folder: Path, idempotent: bool, slow_plugin: None
) -> None:
    account = (
        '[accounts.slow]\nnetwork = "slow"\n[accounts.slow.options]\npath = "slow.jsonl"\n'
        f"delay = {{delay}}\nidempotent = {str(idempotent).lower()}\n"
    )
    path = write_config(folder, account.format(delay=5))
    config = load_config(path)
    db = open_database(config.database_url)
    now = datetime.now(UTC)
    ids = seed(db, "slow", [now - timedelta(seconds=3), now - timedelta(seconds=2),
                            now - timedelta(seconds=1)])  # fmt: skip
    ledger = folder / "slow.jsonl"
    process = start(folder)
    try:
        # The network has taken the first post; the runner is waiting for its answer.
        assert wait_for(lambda: len(lines(ledger)) == 1, 30), process.stderr
    finally:
        process.kill()
        process.communicate(timeout=30)
    with db.transaction() as session:
        assert session.get(Post, ids[0]).status == PostStatus.CLAIMED  # type: ignore[union-attr]

    path.write_text(path.read_text().replace("delay = 5", "delay = 0.05"))
    again = start(folder, "--once")
    out, err = again.communicate(timeout=60)
    # Exit 1 when the crash left a post for a person (no idempotency key to re-send it with).
    assert again.returncode == (0 if idempotent else 1), err
    with db.transaction() as session:
        states = dict(session.execute(select(Post.id, Post.status)).all())
    sent = [record["post"] for record in lines(ledger)]
    if idempotent:
        # Re-sent with the same key: the network kept it once.
        assert sent == ids
        assert [states[i] for i in ids] == ["published"] * 3
    else:
        # No idempotency key: the in-flight post is left for a person, never re-sent.
        assert sent == ids
        assert [states[i] for i in ids] == ["unknown", "published", "published"]
        assert f"post(s) that need a person: {ids[0]} (unknown)" in err
    db.dispose()


def test_a_second_runner_on_the_same_sqlite_file_refuses_to_start(folder: Path) -> None:
    config = load_config(write_config(folder, '[accounts.main]\nnetwork = "console"\n'))
    open_database(config.database_url).dispose()
    first = start(folder)
    try:
        assert wait_for(lambda: (folder / "planner.db.runner.lock").exists(), 30)
        time.sleep(0.5)
        second = start(folder)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert "already publishing from this database" in err
        assert "Traceback" not in err
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0


def test_sigterm_stops_run_once_after_the_posts_in_flight_and_claims_nothing_new(
    folder: Path,
) -> None:
    # Two accounts with three posts each; the receiver holds every post until the test lets
    # it answer, so SIGTERM arrives while each account's first post is at the network.
    gate = threading.Event()

    class Gated(FakeWebhook):
        def answer(self, received: Received) -> Reply:
            gate.wait(30)
            return super().answer(received)

    with Gated() as hook:
        accounts = "".join(
            f'[accounts.{a}]\nnetwork = "webhook"\n[accounts.{a}.options]\nurl = "{hook.url}"\n'
            for a in ("one", "two")
        )
        config = load_config(write_config(folder, accounts))
        db = open_database(config.database_url)
        now = datetime.now(UTC) - timedelta(seconds=1)
        ids = {a: seed(db, a, [now, now, now], prefix=a) for a in ("one", "two")}
        process = start(folder, "--once", "--verbose")
        try:
            assert wait_for(lambda: len(hook.requests) >= 2, 30), process.stderr
            process.send_signal(signal.SIGTERM)
            # The runner is still waiting for its answers: it must not have exited.
            assert wait_for(lambda: process.poll() is not None, 1) is False
            gate.set()
            stdout, stderr = process.communicate(timeout=60)
        finally:
            gate.set()
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, stderr
        assert "2 post(s) handled" in stdout
        assert "stopped early" in stderr
        assert len(hook.requests) == 2  # nothing claimed after the signal was sent
        with db.reading() as session:
            status = dict(session.execute(select(Post.id, Post.status)).all())
        db.dispose()
        for account_ids in ids.values():
            first, *rest = account_ids
            assert status[first] == PostStatus.PUBLISHED
            assert [status[i] for i in rest] == [PostStatus.PLANNED] * 2


def test_run_refreshes_the_feeds_on_its_own_schedule_and_goes_on_when_one_fails(
    folder: Path,
) -> None:
    now = datetime.now(UTC)
    entries = [
        Entry(
            f"post-{n}",
            f"Cache notes {n}",
            f"https://lena.example.dev/notes/{n}",
            published=now - timedelta(days=n),
            author="Lena",
        )  # fmt: skip
        for n in range(3)
    ]
    with FakeFeeds() as server:
        server.documents["/feed.xml"] = Document(rss(entries))
        server.documents["/broken.xml"] = Document(b"", behaviour="error")
        config = load_config(write_config(folder, (
            '[accounts.main]\nnetwork = "outbox"\n[accounts.main.options]\npath = "out.jsonl"\n'
            f'[feeds]\nrefresh_minutes = 60\n[feeds.broken]\nurl = "{server.url}/broken.xml"\n'
            f'[feeds.lena]\nurl = "{server.url}/feed.xml"\n'
        )))  # fmt: skip
        db = open_database(config.database_url)

        def feed_items() -> list[str]:
            with db.reading() as session:
                query = select(Item.title).where(Item.source == "feed:lena").order_by(Item.title)
                return list(session.scalars(query))

        runner = start(folder)
        try:
            # Synced at start, with no command run: the failing feed does not stop the other.
            assert wait_for(lambda: len(feed_items()) == 3, 30)
            assert feed_items() == ["Cache notes 0", "Cache notes 1", "Cache notes 2"]
            status = subprocess.run(
                [sys.executable, "-m", "planner", "status"], cwd=folder, text=True,
                capture_output=True,
                env={**os.environ, "PLANNER_CONFIG": str(folder / "planner.toml")},
            )  # fmt: skip
            assert "feed broken:" in status.stdout
            assert runner.poll() is None  # still running
        finally:
            runner.send_signal(signal.SIGTERM)
            _, errors = runner.communicate(timeout=30)
            db.dispose()
        assert runner.returncode == 0, errors
