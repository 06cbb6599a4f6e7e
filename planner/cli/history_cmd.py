"""``planner history`` and ``planner simulate``: what went out, and what would go out."""

from __future__ import annotations

from datetime import date, datetime

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.cli.plan_cmd import account_option, check_accounts, resolve_weeks
from planner.reports.history.formats import as_json as history_json
from planner.reports.history.formats import format_table as history_table
from planner.reports.history.read import PERIODS, build_history
from planner.reports.simulate.formats import as_json as simulation_json
from planner.reports.simulate.formats import format_table as simulation_table
from planner.reports.simulate.run import simulate_week

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


@click.command("history")
@account_option
@click.option("--since", type=_DATE, metavar="DATE", help="First day, like 2026-11-01.")
@click.option("--until", type=_DATE, metavar="DATE", help="Last day (inclusive) [default: today].")
@click.option(
    "--by",
    type=click.Choice(PERIODS),
    default="week",
    show_default=True,
    help="Ratio per ISO week or per day (in the account's timezone).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys).")
@pass_state
def history_command(
    state: AppState,
    accounts: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    by: str,
    as_json: bool,
) -> None:
    """Show published posts and the give:pitch ratio each account kept, week by week.

    Lists every published post (time, account, kind, class, item, URL, text; forced posts
    marked), then per account and per ISO week (or day, with --by day): gives, pitches, the
    pitch share, and whether the fullest window ending at one of that period's pitches stayed
    within the rule. The range defaults to the last 4 weeks; dates are read in each account's
    timezone.
    """
    names = check_accounts(state, accounts)
    if since is not None and until is not None and since > until:
        raise click.BadParameter(
            f"{since:%Y-%m-%d} is after --until {until:%Y-%m-%d}", param_hint="--since"
        )
    with state.database() as db, db.transaction() as session:
        history = build_history(
            session,
            state.config,
            now_utc(),
            accounts=names,
            since=_day(since),
            until=_day(until),
            by=by,
        )
    if as_json:
        echo_json(history_json(history))
    else:
        click.echo(history_table(history))


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
    """
    ((year, number),) = resolve_weeks(state, week, 1)
    names = check_accounts(state, accounts)
    with state.database() as db:
        simulation = simulate_week(db, state.config, year, number, now_utc(), accounts=names)
    if output_format == "json":
        echo_json(simulation_json(simulation))
    else:
        click.echo(simulation_table(simulation))
