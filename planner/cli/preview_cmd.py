"""``planner preview``: show a planned week per account, and check it in CI."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from planner.cli._app import AppState, now_utc, pass_state
from planner.cli._options import account_option, check_accounts, resolve_weeks
from planner.cli._terminal import table_width, use_color
from planner.content.lint_state import lint_lines
from planner.reports.preview.formats import as_json, format_markdown
from planner.reports.preview.html import format_html
from planner.reports.preview.model import LOOKAHEAD_WEEKS, Preview, PreviewCheckFailed, check
from planner.reports.preview.output import open_in_browser, write_atomically
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
    "Write html and ics to a file with --output.",
)
@click.option(
    "--weeks",
    "count",
    type=click.IntRange(1, 52),
    default=1,
    show_default=True,
    help="How many weeks from --week, drawn on one page with the chart across them "
    "(--format html).",
)
@click.option(
    "--check",
    "check_rule",
    is_flag=True,
    help="Exit 1 if a week breaks the ratio rule or leaves a slot empty (for CI).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (whole or not at all) instead of standard output.",
)
@click.option(
    "--open",
    "open_page",
    is_flag=True,
    help="Open the page in the default browser (--format html; without --output it is "
    "written to a temporary file).",
)
@pass_state
def preview_command(
    state: AppState,
    week: str,
    accounts: tuple[str, ...],
    output_format: str,
    count: int,
    check_rule: bool,
    output: Path | None,
    open_page: bool,
) -> None:
    """Show a week's plan per account: each slot's time, kind, class, text, why it was chosen
    and the running pitch share, then a summary (give:pitch vs target, the fullest window,
    held promos and where they would fit, empty slots, how long each kind's queue lasts).

    With --check the output is printed as usual and the command exits 1 when any account's
    week breaks the give-to-pitch rule (forced posts excepted) or has an empty slot; the last
    line (on stderr) says what failed.

    \b
    Example:
      planner preview --week next --format html --output week.html --open
    """
    if count > 1 and output_format != "html":
        raise click.UsageError("--weeks draws several weeks on one page: use --format html")
    if open_page and output_format != "html":
        raise click.UsageError("--open shows the HTML page: use --format html")
    weeks = resolve_weeks(state, week, count, ahead=LOOKAHEAD_WEEKS)
    names = check_accounts(state, accounts)
    now = now_utc()
    with state.database() as db, db.reading() as session:
        previews = [
            build_preview(session, state.config, year, number, now, accounts=names)
            for year, number in weeks
        ]
        items = {
            row.item
            for preview in previews
            for a in preview.accounts
            for d in a.days
            for row in d.rows
            if row.item
        }
        lint = lint_lines(session, state.config, items)
    report = _report(state, previews, output_format, to_terminal=output is None and not open_page)
    if output is None and open_page:
        output = Path(tempfile.gettempdir()) / f"planner-preview-{previews[0].label}.html"
    if output is None and output_format == "ics":
        click.echo(report.encode("utf-8"), nl=False)  # bytes: CRLF kept as is
    elif output is None:
        click.echo(report, nl=False, color=use_color() or None)
    else:
        write_atomically(output, report.encode("utf-8"))
        click.echo(f"wrote {output}", err=True)
        if open_page and (problem := open_in_browser(output)):
            click.echo(f"warning: {problem}", err=True)
    for line in lint:  # the etiquette lint's warnings, beside any format (stderr)
        click.echo(visible(f"lint: {line}"), err=True)
    if check_rule:
        if len(previews) == 1:
            check(previews[0])  # PreviewCheckFailed: the group prints it last, on stderr, exit 1
        elif problems := [f"{p.label}: {found}" for p in previews for found in p.problems]:
            labels = f"{previews[0].label} to {previews[-1].label}"
            raise PreviewCheckFailed(labels, problems)
        shown = len(previews[0].accounts)
        label = ", ".join(preview.label for preview in previews)
        click.echo(
            f"check passed for {label}: {shown} account(s) within the rule, no empty slot",
            err=True,
        )


def _report(state: AppState, previews: list[Preview], output_format: str, to_terminal: bool) -> str:
    """The report as text (for ics: CRLF line ends, as the format requires)."""
    (preview, *_) = previews
    if output_format == "json":
        return json.dumps(as_json(preview), indent=2, sort_keys=False, default=str) + "\n"
    if output_format == "markdown":
        return format_markdown(preview)
    if output_format == "html":
        return format_html(previews, state.config.templates_path)
    if output_format == "ics":
        from planner.reports.preview.ics import format_ics  # icalendar: only for this format

        return format_ics(preview)
    from planner.reports.preview.terminal import render_table  # rich: only for a table

    if to_terminal:
        return render_table(preview, table_width(), color=use_color())
    return render_table(preview, table_width(), color=False)  # a file gets no escape codes
