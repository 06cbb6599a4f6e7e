"""What every command shares: the config option, error handling, and output helpers.

Domain errors (``planner.errors``) become a message on stderr and the documented exit code;
no command ever shows a traceback for a person's mistake.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from planner.errors import ExitCode, PlannerError

if TYPE_CHECKING:
    from planner.config.settings import Config
    from planner.store.database import Database


class CommandFailed(click.ClickException):
    """A domain failure on its way out (exit 1); every line of the message is shown."""

    exit_code = int(ExitCode.FAILURE)

    def show(self, file: Any = None) -> None:
        lines = self.format_message().splitlines() or [""]
        click.echo(f"Error: {lines[0]}", err=True)
        for line in lines[1:]:
            click.echo(f"  {line}", err=True)


class BadInput(CommandFailed):
    """Bad input (a config or queue file, a value): exit 2."""

    exit_code = int(ExitCode.USAGE)


def as_click_error(error: PlannerError) -> CommandFailed:
    if error.exit_code == ExitCode.USAGE:
        return BadInput(str(error))
    return CommandFailed(str(error))


class InOrder(click.Group):
    """A command group whose --help lists its commands in the order they were added (the
    order of the work: set up, fill the queue, plan, look, publish, follow up), not A to Z."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


class PlannerGroup(InOrder):
    """A command group that turns the planner's own errors into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PlannerError as error:
            raise as_click_error(error) from None


@dataclass
class AppState:
    """Per-invocation state: where the config is, loaded on first use."""

    config_option: str | None
    no_color: bool = False  # --no-color: tables in plain text, even on a terminal
    _config: Config | None = field(default=None, init=False)

    # The config and the store are imported when a command first needs them, so that
    # `planner --help` and light commands start without pydantic or SQLAlchemy.

    @property
    def config_path(self) -> Path:
        from planner.config.settings import find_config

        return find_config(self.config_option)

    @property
    def config(self) -> Config:
        from planner.config.settings import load_config

        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @contextmanager
    def database(self) -> Iterator[Database]:
        from planner.store.database import open_database

        config = self.config
        db = open_database(
            config.database_url, busy_timeout=config.settings.database.busy_timeout_seconds
        )
        try:
            yield db
        finally:
            db.dispose()


pass_state = click.make_pass_decorator(AppState)


def now_utc() -> datetime:
    return datetime.now(UTC)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def is_terminal() -> bool:
    return sys.stdout.isatty()
