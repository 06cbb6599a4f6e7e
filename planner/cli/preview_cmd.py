"""``planner preview``: show a planned week per account, and check it in CI."""

from __future__ import annotations

import click

from planner.cli._app import AppState, echo_json, now_utc, pass_state
from planner.cli._options import account_option, check_accounts, resolve_weeks
from planner.cli._terminal import echo_table, table_width, use_color
from planner.content.lint_state import lint_lines
from planner.reports.preview.formats import as_json, format_markdown
from planner.reports.preview.html import format_html
from planner.reports.preview.model import LOOKAHEAD_WEEKS, check
from planner.reports.preview.read import build_preview
from planner.text import visible

FORMATS = ("table", "json", "markdown", "html", "ics")


@click.command("preview")
@click.option(
    "--week",
    default="next",
    show_default=True,
    help="ISO week to show: next, this, or like 2026-W49.",
)
@account_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for a terminal (as wide as it is; coloured by class), json (stable keys), "
    "markdown, html (a week grid for a browser) or ics (iCalendar, for calendar apps). "
    "Redirect html and ics to a file.",
)
@click.option(
    "--check",
    "check_rule",
    is_flag=True,
    help="Exit 1 if a week breaks the ratio rule or leaves a slot empty (for CI).",
)
@pass_state
def preview_command(
    state: AppState, week: str, accounts: tuple[str, ...], output_format: str, check_rule: bool
) -> None:
    """Show a week's plan per account: each slot's time, kind, class, text, why it was chosen
    and the running pitch share, then a summary (give:pitch vs target, the fullest window,
    held promos and where they would fit, empty slots, how long each kind's queue lasts).

    With --check the output is printed as usual and the command exits 1 when any account's
    week breaks the give-to-pitch rule (forced posts excepted) or has an empty slot; the last
    line (on stderr) says what failed.

    \b
    Example:
      planner preview --week next --format html > week.html
    """
    ((year, number),) = resolve_weeks(state, week, 1, ahead=LOOKAHEAD_WEEKS)
    names = check_accounts(state, accounts)
    now = now_utc()
    with state.database() as db, db.reading() as session:
        preview = build_preview(session, state.config, year, number, now, accounts=names)
        items = {row.item for a in preview.accounts for d in a.days for row in d.rows if row.item}
        lint = lint_lines(session, state.config, items)
    if output_format == "json":
        echo_json(as_json(preview))
    elif output_format == "markdown":
        click.echo(format_markdown(preview), nl=False)
    elif output_format == "html":
        click.echo(format_html(preview, state.config.templates_path), nl=False)
    elif output_format == "ics":
        from planner.reports.preview.ics import format_ics  # icalendar: only for this format

        click.echo(format_ics(preview).encode("utf-8"), nl=False)  # bytes: CRLF kept as is
    else:
        from planner.reports.preview.terminal import render_table  # rich: only for a table

        echo_table(render_table(preview, table_width(), color=use_color()))
    for line in lint:  # the etiquette lint's warnings, beside any format (stderr)
        click.echo(visible(f"lint: {line}"), err=True)
    if check_rule:
        check(preview)  # PreviewCheckFailed: the group prints it last, on stderr, exit 1
        count = len(preview.accounts)
        click.echo(
            f"check passed for {preview.label}: {count} account(s) within the rule, no empty slot",
            err=True,
        )
