"""The ``planner`` command: a thin layer that parses options and prints results.

Each command group lives in its own module; the work is done by the core package, which
never imports click.
"""

from __future__ import annotations

import click

from planner import __version__
from planner.cli._app import AppState, PlannerGroup
from planner.cli.config_cmd import config_group
from planner.cli.db_cmd import db_group
from planner.cli.feeds_cmd import feeds_group
from planner.cli.history_cmd import history_command
from planner.cli.hold_cmd import hold_command, release_command
from planner.cli.init_cmd import init_command
from planner.cli.plan_cmd import plan_command
from planner.cli.preview_cmd import preview_command
from planner.cli.queue_cmd import queue_group
from planner.cli.run_cmd import run_command
from planner.cli.simulate_cmd import simulate_command
from planner.cli.status_cmd import resolve_command, resume_command, status_command
from planner.config.settings import CONFIG_ENV_VAR


@click.group(cls=PlannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    "config_option",
    envvar=CONFIG_ENV_VAR,
    metavar="FILE",
    help=f"Configuration file [default: ./planner.toml; env: {CONFIG_ENV_VAR}].",
)
@click.option(
    "--no-color",
    is_flag=True,
    help="Tables in plain text, without colour (also when NO_COLOR is set or not a terminal).",
)
@click.version_option(__version__, prog_name="planner")
@click.pass_context
def main(ctx: click.Context, config_option: str | None, no_color: bool) -> None:
    """Plan posts from a content queue onto weekly slots, keeping a give-to-pitch ratio.

    Exit codes: 0 ok, 1 a domain failure, 2 bad usage or bad input.
    """
    ctx.obj = AppState(config_option, no_color)


# In the order of the work, which is the order `planner --help` lists them in.
for command in (
    init_command,
    config_group,
    queue_group,
    feeds_group,
    plan_command,
    preview_command,
    hold_command,
    release_command,
    run_command,
    status_command,
    history_command,
    simulate_command,
    resolve_command,
    resume_command,
    db_group,
):
    main.add_command(command)

__all__ = ["main"]
