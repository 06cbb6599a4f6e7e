"""Group commit on SQLite and PostgreSQL: each thread's work is committed before its call
returns; work queued while another thread writes shares one transaction; one failing piece
of work fails alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, event, insert, select

from planner.publish.group_commit import GroupCommit
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
