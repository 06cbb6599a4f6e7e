"""Options more than one command takes: the ISO week to start from and the accounts to show."""

from __future__ import annotations

import click

from planner.cli._app import AppState, now_utc
from planner.plan.slots import WeekSpecError, parse_iso_week, weeks_from


def resolve_weeks(
    state: AppState, week: str, count: int, *, ahead: int = 0
) -> list[tuple[int, int]]:
    """The ``count`` weeks from ``--week``; ``ahead`` more weeks must exist after them (the
    preview looks ahead for held items), or the option is refused near the calendar's end."""
    from zoneinfo import ZoneInfo

    today = now_utc().astimezone(ZoneInfo(state.config.settings.timezone)).date()
    try:
        year, number = parse_iso_week(week, today)
        weeks_from(year, number, count + ahead)
    except WeekSpecError as error:
        hint = f" (the preview also looks {ahead} weeks ahead)" if ahead else ""
        raise click.BadParameter(f"{error}{hint}", param_hint="--week") from None
    return weeks_from(year, number, count)


def check_accounts(state: AppState, accounts: tuple[str, ...]) -> list[str] | None:
    known = state.config.settings.accounts
    for name in accounts:
        if name not in known:
            expected = ", ".join(sorted(known)) or "none configured"
            raise click.BadParameter(
                f"no account {name!r} in {state.config.path} (accounts: {expected})",
                param_hint="--account",
            )
    return list(accounts) or None


week_option = click.option(
    "--week",
    default="next",
    show_default=True,
    help="ISO week to start from: next, this, or like 2026-W49.",
)
account_option = click.option(
    "--account", "accounts", multiple=True, help="Only this account (repeatable; default all)."
)
