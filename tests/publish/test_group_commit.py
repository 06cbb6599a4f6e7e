"""Group commit on SQLite and PostgreSQL: each thread's work is committed before its call
returns; work queued while another thread writes shares one transaction; rows queued
together run as one executemany per statement; one failing piece of work fails alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, bindparam, event, insert, select, update

from planner.publish.group_commit import GroupCommit, Rows
from planner.store.database import Database, open_database
from planner.store.models import AccountState


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


def add_account(name: str) -> object:
    def work(connection: Connection) -> None:
        connection.execute(insert(AccountState).values(account=name, paused=False))

    return work


def accounts(db: Database) -> set[str]:
    with db.reading() as session:
        return set(session.scalars(select(AccountState.account)))


def test_work_is_committed_when_run_returns(db: Database) -> None:
    group = GroupCommit(db)
    seen: dict[str, bool] = {}

    def add_and_look(name: str) -> None:
        group.run(add_account(name))  # type: ignore[arg-type]
        seen[name] = name in accounts(db)  # another connection sees it already

    threads = [threading.Thread(target=add_and_look, args=(f"a{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {f"a{n}": True for n in range(8)}


def test_work_queued_while_another_thread_writes_shares_one_commit(db: Database) -> None:
    group = GroupCommit(db)
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda _connection: commits.append(1))
    writing, gate = threading.Event(), threading.Event()

    def first(connection: Connection) -> None:
        writing.set()
        assert gate.wait(30)
        connection.execute(insert(AccountState).values(account="first", paused=False))

    leader = threading.Thread(target=group.run, args=(first,))
    leader.start()
    assert writing.wait(30)
    followers = [threading.Thread(target=group.run, args=(add_account(f"f{n}"),)) for n in range(5)]
    for thread in followers:
        thread.start()
    # Once all five are queued behind the first writer, let it commit.
    for _ in range(600):
        with group._queue_lock:
            if len(group._queue) == 5:
                break
        writing.wait(0.05)
    gate.set()
    for thread in [leader, *followers]:
        thread.join(timeout=60)
    assert len(commits) == 2  # the first alone, then the five together
    assert accounts(db) == {"first", "f0", "f1", "f2", "f3", "f4"}


def test_a_failing_piece_of_work_fails_alone(db: Database) -> None:
    group = GroupCommit(db)
    group.run(add_account("taken"))  # type: ignore[arg-type]
    writing, gate = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}

    def first(connection: Connection) -> None:
        writing.set()
        assert gate.wait(30)
        connection.execute(insert(AccountState).values(account="first", paused=False))

    def run(name: str, work: object) -> None:
        try:
            group.run(work)  # type: ignore[arg-type]
        except Exception as error:  # the test looks at who got which error
            errors[name] = error

    leader = threading.Thread(target=run, args=("first", first))
    leader.start()
    assert writing.wait(30)
    followers = [
        threading.Thread(target=run, args=(name, add_account(name)))
        for name in ("ok1", "taken", "ok2")
    ]
    for thread in followers:
        thread.start()
    for _ in range(600):
        with group._queue_lock:
            if len(group._queue) == 3:
                break
        writing.wait(0.05)
    gate.set()
    for thread in [leader, *followers]:
        thread.join(timeout=60)
    assert set(errors) == {"taken"}  # the duplicate account, and only its caller
    assert accounts(db) == {"taken", "first", "ok1", "ok2"}


ADD = insert(AccountState)
PAUSE = (
    update(AccountState)
    .where(AccountState.account == bindparam("name"))
    .values(paused=True, paused_reason=bindparam("why"))
)


def add_and_pause(name: str) -> Rows:
    return Rows(((ADD, {"account": name, "paused": False}), (PAUSE, {"name": name, "why": name})))


def queue_behind_a_writer(
    group: GroupCommit,
    works: dict[str, object],
    errors: dict[str, BaseException],
    leader: str = "first",
) -> threading.Event:
    """Start a writer that waits for the returned gate, then queue ``works`` behind it."""
    writing, gate = threading.Event(), threading.Event()

    def first(connection: Connection) -> None:
        writing.set()
        assert gate.wait(30)
        connection.execute(insert(AccountState).values(account=leader, paused=False))

    def run(name: str, work: object) -> None:
        try:
            group.run(work)  # type: ignore[arg-type]
        except Exception as error:  # the test looks at who got which error
            errors[name] = error

    threads = [threading.Thread(target=run, args=(leader, first))]
    threads[0].start()
    assert writing.wait(30)
    for name, work in works.items():
        threads.append(threading.Thread(target=run, args=(name, work)))
        threads[-1].start()
    for _ in range(600):
        with group._queue_lock:
            if len(group._queue) == len(works):
                break
        writing.wait(0.05)
    done = threading.Event()

    def finish() -> None:
        for thread in threads:
            thread.join(timeout=60)
        done.set()

    gate.set()
    threading.Thread(target=finish).start()
    return done


def test_rows_queued_together_run_as_one_executemany_per_statement(db: Database) -> None:
    group = GroupCommit(db)
    executed: list[tuple[str, bool]] = []

    def note(_conn: object, _cursor: object, statement: str, _params: object, _context: object,
             executemany: bool) -> None:  # fmt: skip
        executed.append((statement.split()[0].upper(), executemany))

    errors: dict[str, BaseException] = {}
    works: dict[str, object] = {f"r{n}": add_and_pause(f"r{n}") for n in range(6)}
    done = queue_behind_a_writer(group, {}, errors, "warm")  # the connection made first
    assert done.wait(60)
    event.listen(db.engine, "before_cursor_execute", note)
    done = queue_behind_a_writer(group, works, errors)
    assert done.wait(60)
    event.remove(db.engine, "before_cursor_execute", note)
    assert errors == {}
    # The writer's own insert, then the six threads' rows: one INSERT and one UPDATE.
    statements = [entry for entry in executed if entry[0] in ("INSERT", "UPDATE")]
    assert statements == [("INSERT", False), ("INSERT", True), ("UPDATE", True)]
    with db.reading() as session:
        rows = session.execute(select(AccountState.account, AccountState.paused_reason)).all()
    paused = {account: reason for account, reason in rows}
    assert paused == {"warm": None, "first": None, **{f"r{n}": f"r{n}" for n in range(6)}}


def test_failing_rows_fail_alone(db: Database) -> None:
    group = GroupCommit(db)
    group.run(add_and_pause("taken"))
    errors: dict[str, BaseException] = {}
    works: dict[str, object] = {name: add_and_pause(name) for name in ("ok1", "taken", "ok2")}
    done = queue_behind_a_writer(group, works, errors)
    assert done.wait(60)
    assert set(errors) == {"taken"}
    assert accounts(db) == {"taken", "first", "ok1", "ok2"}
