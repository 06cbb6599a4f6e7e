"""One ``planner run`` per SQLite file, and who that is.

A runner holds an exclusive ``flock`` on ``<database>.runner.lock`` beside the file, keyed on
the file's real path: a symlink or a relative path to the same database finds the same lock.
The lock file holds the runner's pid and host, so a command kept waiting for the database
can say who is publishing from it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from planner.errors import RunnerBusy


def runner_lock_path(database_url: str) -> Path | None:
    """Where a runner's lock for this database lives; None for a database with no file."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{Path(database).resolve()}.runner.lock")


def runner_holding(database_url: str) -> str | None:
    """``"pid 123 on host"`` when a runner holds this database's lock, else None."""
    path = runner_lock_path(database_url)
    if path is None or not path.exists():
        return None
    try:
        with path.open("r", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or "another process"
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        return None
    return None


class SQLiteRunnerLock:
    """One runner per SQLite file: an exclusive ``flock`` on ``<database>.runner.lock``."""

    def __init__(self, database_url: str) -> None:
        path = runner_lock_path(database_url)
        if path is None:
            raise ValueError(f"{database_url} has no file to lock")
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunnerBusy(
                f"another `planner run` is already publishing from this database ({holder}); "
                "on SQLite one runner owns the file: stop it first, or move to PostgreSQL to "
                "run several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
