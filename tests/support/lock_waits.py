"""Two writers on PostgreSQL, the second made to wait on the first's locks.

On PostgreSQL only rows are locked: two transactions that each read "no row yet" and then
insert race. These helpers hold the first transaction open until the second is seen waiting
on a lock (in ``pg_stat_activity``), then commit it, so a test checks what the second ends
with when it really did wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from planner.store.database import Database, open_database


def first_then_second(
    db_url: str, first: Callable[[Session], object], second: Callable[[Session], object]
) -> object:
    """Run ``first`` in a transaction left open until ``second``, in another, waits on it;
    then commit the first. Returns what the second returned, or the exception it raised."""
    one, other = open_database(db_url), open_database(db_url)
    done_first, may_commit = threading.Event(), threading.Event()
    ended: dict[str, object] = {}

    def run_first() -> None:
        with one.transaction() as session:
            first(session)
            session.flush()
            done_first.set()
            may_commit.wait(30)

    def run_second() -> None:
        try:
            with other.transaction() as session:
                ended["second"] = second(session)
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong
            ended["second"] = error

    holder = threading.Thread(target=run_first)
    holder.start()
    assert done_first.wait(30)
    waiter = threading.Thread(target=run_second)
    waiter.start()
    try:
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(one):
            assert time.monotonic() < deadline, "the second writer never waited"
            time.sleep(0.01)
    finally:
        may_commit.set()
        holder.join(30)
        waiter.join(30)
        one.dispose()
        other.dispose()
    return ended["second"]


def waiting_on_a_lock(db: Database) -> bool:
    with db.reading() as session:
        return bool(session.scalar(text(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            " and datname = current_database()"
        )))  # fmt: skip
