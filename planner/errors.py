"""The planner's own errors, and the exit codes the command line maps them to.

Hierarchy::

    PlannerError                     base of everything the planner raises on purpose
    ├── InputError (ValueError)      bad input from a person: exit 2
    │   ├── ConfigError              planner.toml is wrong (file, line, key)
    │   ├── QueueFileError           a queue file is wrong (file, item, key)
    │   └── SchemaOutOfDate          the database needs `planner db upgrade`
    └── DomainError (RuntimeError)   the planner did its job and the answer is "no": exit 1
        └── ItemNotFound (LookupError)

The core raises these; only ``planner.cli`` turns them into messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    """No queue item has the given id."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        super().__init__(f"no queue item with id {item_id!r}")
