"""SQLite writers wait their turn; readers never wait (WAL).

Each test holds the database's write lock from a second connection, as a runner claiming a
post or another command writing would, and runs a command against the same file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import event, update

from planner.cli import main
from planner.errors import DomainError
from planner.store.database import Database, open_database
from planner.store.models import AccountState
from planner.store.sqlite_lock import SQLiteRunnerLock, runner_lock_path

QUEUE = """\
[[item]]
id = "tip-a"
kind = "help"
text = "Key the cache on the lock file."

[[item]]
id = "promo-a"
kind = "promo"
text = "Try Acme CI."
"""


def workspace(folder: Path, busy_timeout: float) -> Path:
    (folder / "queue").mkdir()
    (folder / "queue" / "items.toml").write_text(QUEUE)
    config = folder / "planner.toml"
    config.write_text(
        'timezone = "UTC"\n'
        f"[database]\nbusy_timeout_seconds = {busy_timeout}\n"
        '[accounts.main]\nnetwork = "outbox"\nslots = ["mon-fri 09:00"]\n'
    )
    return config


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    config = workspace(tmp_path, busy_timeout=0.2)
    assert run(config, "queue", "sync").exit_code == 0
    return config


@pytest.fixture
def write_lock(synced: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the workspace's database, held open."""
    other = sqlite3.connect(synced.parent / "planner.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE items SET priority = priority WHERE id = 'tip-a'")
    yield other
    other.execute("ROLLBACK")
    other.close()


def rows(config: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(config.parent / "planner.db")
    try:
        return sorted(db.execute("SELECT id, status, manual_hold, priority FROM items"))
    finally:
        db.close()


WRITERS = [
    ("plan",),
    ("queue", "add", "--kind", "help", "--text", "Pin your actions to a commit."),
    ("queue", "sync"),
    ("hold", "tip-a"),
    ("release", "tip-a"),
]


@pytest.mark.parametrize("args", WRITERS, ids=[" ".join(a[:2]) for a in WRITERS])
def test_a_writer_kept_waiting_past_the_timeout_exits_1_with_one_line(
    synced: Path, write_lock: sqlite3.Connection, args: tuple[str, ...]
) -> None:
    before = rows(synced)
    result = run(synced, *args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "stayed locked for 0.2 s" in lines[-1]
    assert "another planner command is writing to it" in lines[-1]
    assert "busy_timeout_seconds" in lines[-1]
    assert rows(synced) == before


def test_the_message_names_the_runner_that_holds_the_database(
    synced: Path, write_lock: sqlite3.Connection
) -> None:
    url = f"sqlite:///{synced.parent / 'planner.db'}"
    runner = SQLiteRunnerLock(url)
    runner.acquire()
    try:
        result = run(synced, "hold", "tip-a")
    finally:
        runner.release()
    assert result.exit_code == 1
    assert "a `planner run` is publishing from it (pid " in result.output


def test_a_writer_waits_for_the_lock_and_then_goes_through(tmp_path: Path) -> None:
    config = workspace(tmp_path, busy_timeout=20)
    assert run(config, "queue", "sync").exit_code == 0
    other = sqlite3.connect(tmp_path / "planner.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    # The lock is let go once the command is waiting for it: the command must wait, not fail.
    releaser = threading.Timer(0.5, other.execute, args=("COMMIT",))
    releaser.start()
    try:
        result = run(config, "hold", "tip-a")
    finally:
        releaser.join()
        other.close()
    assert result.exit_code == 0, result.output
    assert ("tip-a", "held", 1, 0) in rows(config)


READERS = [
    ("preview",),
    ("status",),
    ("history",),
    ("queue", "list"),
    ("config", "check"),
]


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) for a in READERS])
def test_readers_never_wait_for_a_writer(
    synced: Path, write_lock: sqlite3.Connection, args: tuple[str, ...]
) -> None:
    result = run(synced, *args)
    assert result.exit_code == 0, result.output


def test_the_runner_lock_is_keyed_on_the_real_path(tmp_path: Path) -> None:
    open_database(f"sqlite:///{tmp_path / 'planner.db'}").dispose()
    (tmp_path / "alias.db").symlink_to(tmp_path / "planner.db")
    real = runner_lock_path(f"sqlite:///{tmp_path / 'planner.db'}")
    assert runner_lock_path(f"sqlite:///{tmp_path / 'alias.db'}") == real
    first = SQLiteRunnerLock(f"sqlite:///{tmp_path / 'planner.db'}")
    first.acquire()
    try:
        with pytest.raises(Exception, match="already publishing"):
            SQLiteRunnerLock(f"sqlite:///{tmp_path / 'alias.db'}").acquire()
    finally:
        first.release()


def test_a_database_that_refuses_writes_is_reported_in_one_line(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'planner.db'}")
    db.engine.dispose()

    def read_only(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # What SQLite answers for a file it may not write: SQLITE_READONLY.
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(db.engine, "connect", read_only)
    try:
        refused = pytest.raises(DomainError, match=r"cannot write to the database .*read-only")
        with refused, db.transaction() as session:
            session.execute(update(AccountState).values(paused=False))
    finally:
        db.dispose()


def test_writers_of_one_process_take_turns_and_wait_no_longer_than_the_busy_timeout(
    tmp_path: Path,
) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'planner.db'}", busy_timeout=0.3)
    holding, done = threading.Event(), threading.Event()
    order: list[str] = []

    def hold_then_write() -> None:
        with db.transaction() as session:
            holding.set()
            assert done.wait(30)
            session.execute(update(AccountState).values(paused=False))
            order.append("first")

    first = threading.Thread(target=hold_then_write)
    first.start()
    try:
        assert holding.wait(30)
        # Past the busy timeout: refused with the one-line error, not left waiting.
        with pytest.raises(DomainError, match="stayed locked for 0.3 s"), db.transaction():
            pass
        db.busy_timeout = 30  # now wait for the first writer, however slow the machine
        waiting = threading.Thread(target=lambda: _write(db, order))
        waiting.start()
        done.set()
        waiting.join(timeout=30)
    finally:
        done.set()
        first.join(timeout=30)
        db.dispose()
    assert order == ["first", "second"]


def _write(db: Database, order: list[str]) -> None:
    with db.transaction():
        order.append("second")
