"""The planner's own errors, and the exit codes the command line maps them to.

Hierarchy::

    PlannerError                     base of everything the planner raises on purpose
    ├── InputError (ValueError)      bad input from a person: exit 2
    │   ├── ConfigError              planner.toml is wrong (file, line, key)
    │   ├── QueueFileError           a queue file is wrong (file, item, key)
    │   └── SchemaOutOfDate          the database needs `planner db upgrade`
    ├── DomainError (RuntimeError)   the planner did its job and the answer is "no": exit 1
    │   ├── ItemNotFound (LookupError)
    │   ├── PostNotFound (LookupError)
    │   ├── NothingToDo               hold, release or remove asked of an item in no state for it
    │   ├── FeedsFailed               `feeds sync`: a feed could not be fetched or read
    │   ├── RunnerBusy                another `planner run` already works on this database
    │   └── DatabaseBusy              another writer kept the SQLite file past the busy timeout
    └── PublishError                 raised by network adapters; the pipeline decides what next
        ├── RateLimited              retry at ``reset_at``
        ├── AuthFailed               pause the account until a person fixes its credentials
        ├── Rejected                 permanent: the network refused this post
        ├── Transient                retry with backoff (5xx, refused connection): not sent
        └── Uncertain                the request may have reached the network (a read
                                     timeout, a garbled success): re-sent only where the
                                     network is idempotent, else the post is `unknown`

The core raises these; only ``planner.cli`` turns them into messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """The exit-code contract of the ``planner`` command."""

    OK = 0
    FAILURE = 1  # a domain failure: rule broken under --check, publish failed, not found
    USAGE = 2  # bad usage or bad input: config, queue file, template


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE


class InputError(PlannerError, ValueError):
    """Something a person wrote (config, queue file, command-line value) is wrong."""

    exit_code = ExitCode.USAGE


class DomainError(PlannerError, RuntimeError):
    """The request was understood but cannot be carried out."""

    exit_code = ExitCode.FAILURE


class PostsNeedAPerson(DomainError):
    """``planner run --once``: some posts failed, ended ``unknown``, or paused their account."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where it is and what to fix."""

    file: Path | str
    message: str
    line: int | None = None
    where: str | None = None  # the key path or item, e.g. "accounts.main.slots[1]"

    def __str__(self) -> str:
        place = str(self.file)
        if self.line is not None:
            place += f":{self.line}"
        if self.where:
            place += f": {self.where}"
        return f"{place}: {self.message}"


class _ProblemsError(InputError):
    """An input error that carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(_ProblemsError):
    """The configuration file is missing, unreadable or invalid."""


class QueueFileError(_ProblemsError):
    """One or more queue files are invalid; nothing was imported."""


class SchemaOutOfDate(InputError):
    """The database exists but its schema is older (or newer) than this planner."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        super().__init__(
            f"the database schema is at revision {current or 'none'}, this planner needs {head}: "
            "run `planner db upgrade`"
        )


class ItemNotFound(DomainError, LookupError):
    """No queue item has the given id; ``suggestions`` are existing ids close to it."""

    def __init__(self, item_id: str, suggestions: Sequence[str] = ()) -> None:
        self.item_id = item_id
        self.suggestions = list(suggestions)
        super().__init__(f"no queue item with id {item_id!r}" + did_you_mean(self.suggestions))


class NothingToDo(DomainError):
    """An item is already in the state asked for, or the request does not apply to it
    (releasing an item that is not held); the message names its state."""


class PostNotFound(DomainError, LookupError):
    """No post has the given id."""

    def __init__(self, post_id: int, detail: str = "") -> None:
        self.post_id = post_id
        super().__init__(f"no post with id {post_id}" + (f"; {detail}" if detail else ""))


class FeedsFailed(DomainError):
    """Some feeds could not be fetched or read (the others were synced)."""

    def __init__(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = list(failures)
        listed = "; ".join(f"{name}: {reason}" for name, reason in self.failures)
        count = len(self.failures)
        super().__init__(f"{count} feed{'s' if count > 1 else ''} failed ({listed})")


class RunnerBusy(DomainError):
    """Another runner holds this (SQLite) database."""


class DatabaseBusy(DomainError):
    """Another process kept the SQLite database's write lock past the busy timeout."""


class PublishError(PlannerError):
    """A network adapter could not publish a post. Adapters raise only these subclasses."""


class RateLimited(PublishError):
    """The network asks us to wait; try again at ``reset_at`` (aware UTC)."""

    def __init__(self, reset_at: datetime, detail: str = "") -> None:
        self.reset_at = reset_at
        super().__init__(f"rate limited until {reset_at:%Y-%m-%d %H:%M:%S} UTC" + _tail(detail))


class AuthFailed(PublishError):
    """The credentials were refused: the account is paused until a person fixes them."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("authentication failed" + _tail(detail))


class Rejected(PublishError):
    """The network refused this post for good (too long, duplicate, forbidden content)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"rejected: {reason}")


class Transient(PublishError):
    """A temporary failure (server error, timeout): retried with backoff."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"temporary failure: {reason}")


class Uncertain(PublishError):
    """The request may have reached the network but no clear answer came back (the read
    timed out, or a success answer could not be understood): the post may exist."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"outcome unknown: {reason}")


def did_you_mean(names: Sequence[str]) -> str:
    """``"; did you mean 'a', 'b' or 'c'?"`` (empty without names), to end a message."""
    if not names:
        return ""
    quoted = [repr(name) for name in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"; did you mean {listed}?"


def _tail(detail: str) -> str:
    return f": {detail}" if detail else ""
