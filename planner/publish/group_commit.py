"""Group commit: what many publishing threads record, written in few transactions.

A runner's threads each record a published post (four statements) and may not start the
account's next post until that record is committed: of an account's claimed posts only the
earliest may ever be at the network (see :mod:`planner.publish.claiming`). One transaction
per post makes the commit -- on SQLite a sync to disk, under the database's single write
lock -- the runner's bottleneck once many accounts publish at once.

:class:`GroupCommit` keeps each thread's guarantee and shares the commit: a thread queues its
work and waits; whichever thread gets the write turn first runs everything queued so far in
one transaction and wakes the others once it is committed. A lone thread commits alone, at
once. When a shared transaction fails, each piece of work is run again in a transaction of
its own, so one bad record never takes the others with it.

Work given as :class:`Rows` (statements and their parameters, nothing read back) is run
statement by statement for the whole group: each statement once with every queued thread's
parameters (an executemany). A runner's records are the same four statements for every post,
and executing them one post at a time cost more CPU than sending the posts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable

from planner.store.database import Database


@dataclass(frozen=True)
class Rows:
    """Statements to run with these parameters, in this order. Queued with other threads'
    rows, each statement runs once for all of them, in the order the statements first
    appear: so the rows of different threads must not depend on each other's order (a
    runner's records each touch their own post, attempt and account)."""

    steps: Sequence[tuple[Executable, Mapping[str, Any]]]


Work = Callable[[Connection], None] | Rows


class _Queued:
    __slots__ = ("done", "error", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit:
    """Runs work in write transactions shared between threads (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[_Queued] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()  # one thread writes at a time

    def run(self, work: Work) -> None:
        """Run ``work`` in a write transaction; return once it is committed (or raise what
        it raised)."""
        queued = _Queued(work)
        with self._queue_lock:
            self._queue.append(queued)
        with self._turn:
            if not queued.done.is_set():
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if queued.error is not None:
            raise queued.error

    def _write(self, batch: list[_Queued]) -> None:
        try:
            with self.db.write_connection() as connection, connection.begin():
                _run_all(connection, [queued.work for queued in batch])
        except BaseException as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                for queued in batch:
                    self._write([queued])
        finally:
            for queued in batch:
                queued.done.set()


def _run_all(connection: Connection, works: Sequence[Work]) -> None:
    """Run ``works`` in order, each run of :class:`Rows` as one executemany per statement."""
    pending: dict[int, tuple[Executable, list[Mapping[str, Any]]]] = {}

    def flush() -> None:
        for statement, parameters in pending.values():
            connection.execute(statement, parameters)
        pending.clear()

    for work in works:
        if isinstance(work, Rows):
            for statement, parameters in work.steps:
                pending.setdefault(id(statement), (statement, []))[1].append(parameters)
        else:
            flush()
            work(connection)
    flush()
