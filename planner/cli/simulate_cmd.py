"""``planner simulate``: a week through the publish pipeline on a throw-away copy."""

from __future__ import annotations

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.cli._options import account_option, check_accounts, resolve_weeks
from planner.cli._terminal import echo_table, table_width, use_color
from planner.reports.simulate import formats
from planner.reports.simulate.run import simulate_week


@click.command("simulate")
@click.option(
    "--week",
    default="next",
    show_default=True,
    help="ISO week to simulate: next, this, or like 2026-W49.",
)
@account_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "json")),
    default="table",
    show_default=True,
    help="table for a terminal, or json (stable keys).",
)
@pass_state
def simulate_command(
    state: AppState, week: str, accounts: tuple[str, ...], output_format: str
) -> None:
    """Run a week through the publish pipeline on a throw-away copy, and show what would go out.

    The real database is only read and no network is called: the posts go to an outbox in a
    temporary folder, deleted afterwards. A virtual clock moves from now to the week's end,
    re-checking every pitch against what was published, as `planner run` would; the report
    shows when each post would go out, which pitches would be held and why, and the give
    post that would take their slot.

    \b
    Example:
      planner simulate --week next --account main
    """
    ((year, number),) = resolve_weeks(state, week, 1)
    names = check_accounts(state, accounts)
    with state.database() as db:
        simulation = simulate_week(db, state.config, year, number, now_utc(), accounts=names)
    if output_format == "json":
        echo_json(formats.as_json(simulation))
    else:
        from planner.reports.simulate.terminal import render_table  # rich: only for a table

        echo_table(render_table(simulation, table_width(), color=use_color()))
