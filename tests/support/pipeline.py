"""Helpers for tests that drive the planner's pipeline and commands.

``invoke`` runs one command the way ``planner`` does (its ``--config`` option and app
state) with the clock stopped; ``sync_and_plan`` reads a workspace's queue files into its
database and plans weeks from them; a ``Clock`` is a clock a test sets by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
import time_machine
from click.testing import CliRunner, Result

from planner.cli._app import AppState, PlannerGroup
from planner.config.settings import CONFIG_ENV_VAR, Config
from planner.content.files import queue_file_paths, read_queue_files, source_name
from planner.content.store import sync_items
from planner.plan.store import plan_weeks
from planner.store.database import open_database


class Clock:
    """A clock for the pipeline (``clock=``) that says ``now`` until a test changes it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def invoke(
    command: click.Command, args: Sequence[str], *, at: datetime, config: Config | None = None
) -> Result:
    """``planner [--config FILE] COMMAND ARGS`` with the clock at ``at``."""

    @click.group(cls=PlannerGroup)
    @click.option("--config", "-c", "config_option", envvar=CONFIG_ENV_VAR)
    @click.pass_context
    def cli(ctx: click.Context, config_option: str | None) -> None:
        ctx.obj = AppState(config_option)

    cli.add_command(command)
    options = ["--config", str(config.path)] if config else []
    with time_machine.travel(at, tick=False):
        return CliRunner().invoke(cli, [*options, str(command.name), *args], catch_exceptions=False)


def json_output(result: Result) -> dict[str, Any]:
    """The JSON object a command printed, which must have succeeded."""
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def sync_and_plan(
    config: Config, now: datetime, weeks: Sequence[tuple[int, int]], **options: Any
) -> None:
    """Sync the queue files into the database at ``now``, then plan ``weeks`` (if any)."""
    db = open_database(config.database_url)
    try:
        files = queue_file_paths([config.queue_path])
        with db.transaction() as session:
            items = read_queue_files(files, config)
            sync_items(session, items, [source_name(f, config) for f in files], now)
        if weeks:
            with db.transaction() as session:
                plan_weeks(session, config, list(weeks), now, **options)
    finally:
        db.dispose()
