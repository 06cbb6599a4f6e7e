"""The ``planner`` command: a thin layer that parses options and prints results.

Each command group lives in its own module; the work is done by the core package, which
never imports click. A command exists for ``planner`` once it is listed in :data:`COMMANDS`
(its module, its name there, and the summary ``planner --help`` shows); its module is
imported only when it runs.
"""

from __future__ import annotations

from importlib import import_module

import click

from planner import __version__
from planner.cli._app import AppState, PlannerGroup
from planner.config.names import CONFIG_ENV_VAR

# name -> (module, attribute, the command's help summary for `planner --help`), in the order
# of the work, which is the order `planner --help` lists them in. A command's module is
# imported only when the command runs (or shows its own help), so that `planner --help` and
# light commands do not pay for the others' imports (SQLAlchemy, Jinja2, APScheduler, the
# network clients). tests/cli/test_startup.py checks each summary against its command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("init_cmd", "init_command",
             "Create a workspace in DIRECTORY (default: here) to start from."),
    "config": ("config_cmd", "config_group", "Inspect the configuration."),
    "queue": ("queue_cmd", "queue_group",
              "The content queue: curated shares, helpful posts and promos."),
    "feeds": ("feeds_cmd", "feeds_group",
              "Feeds ([feeds.NAME] in planner.toml) whose new entries become queue items."),
    "plan": ("plan_cmd", "plan_command",
             "Fill the weekly slots from the queue under the give-to-pitch rule."),
    "preview": ("preview_cmd", "preview_command",
                "Show a week's plan per account: each slot's time, kind, class, text, why it "
                "was chosen and the running pitch share, then a summary (give:pitch vs target, "
                "the fullest window, held promos and where they would fit, empty slots, how "
                "long each kind's queue lasts)."),
    "hold": ("hold_cmd", "hold_command",
             "Hold ITEM by hand: it leaves the plan at the next `planner plan` and stays "
             "queued."),
    "release": ("hold_cmd", "release_command",
                "Release a held ITEM so the planner may place it again (with --account: there "
                "only)."),
    "run": ("run_cmd", "run_command",
            "Publish planned posts at their slot times, re-checking the ratio before each "
            "pitch."),
    "status": ("status_cmd", "status_command",
               "Show what is due next, retrying, failed, held, unknown and paused, per account, "
               "and the feeds whose last fetch failed."),
    "history": ("history_cmd", "history_command",
                "Show published posts and the give:pitch ratio each account kept, week by week."),
    "simulate": ("simulate_cmd", "simulate_command",
                 "Run a week through the publish pipeline on a throw-away copy, and show what "
                 "would go out."),
    "resolve": ("status_cmd", "resolve_command",
                "Settle a post whose fate is unknown after a crash (see `planner status`)."),
    "resume": ("status_cmd", "resume_command",
               "Resume an account paused after an authentication failure (fix its credentials "
               "first)."),
    "db": ("db_cmd", "db_group", "Manage the planner's database."),
}  # fmt: skip


def load_command(name: str) -> click.Command:
    """The command ``name`` (one of :data:`COMMANDS`), its module imported now."""
    module, attribute, _ = COMMANDS[name]
    command: click.Command = getattr(import_module(f"planner.cli.{module}"), attribute)
    return command


def summary_line(name: str, limit: int) -> str:
    """The line `planner --help` shows for ``name``, at most ``limit`` characters, cut the
    way click cuts a command's own help."""
    return click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit)


class LazyCommands(PlannerGroup):
    """The top-level group: commands are imported when run, and listed from their summaries."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # What click's own listing shows, from the summaries instead of the commands.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, summary_line(name, limit)) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
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


__all__ = ["COMMANDS", "load_command", "main", "summary_line"]
