"""``planner history``: what went out, and the give:pitch ratio it kept."""

from __future__ import annotations

from datetime import date, datetime

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.cli._options import account_option, check_accounts
from planner.cli._terminal import echo_table, table_width, use_color
from planner.content.files import FIRST_DATE, LAST_DATE
from planner.reports.history import formats
from planner.reports.history.read import PERIODS, build_history

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

    \b
    Example:
      planner history --since 2026-11-01 --by day
    """
    names = check_accounts(state, accounts)
    for option, value in (("--since", since), ("--until", until)):
        if value is not None and not FIRST_DATE <= value.date() <= LAST_DATE:
            raise click.BadParameter(
                f"{value.date().isoformat()} is outside the planner's calendar (expected a "
                f"date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})",
                param_hint=option,
            )
    if since is not None and until is not None and since > until:
        raise click.BadParameter(
            f"{since:%Y-%m-%d} is after --until {until:%Y-%m-%d}", param_hint="--since"
        )
    with state.database() as db, db.reading() as session:
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
        echo_json(formats.as_json(history))
    else:
        from planner.reports.history.terminal import render_table  # rich: only for a table

        echo_table(render_table(history, table_width(), color=use_color()))
