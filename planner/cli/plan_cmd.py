"""``planner plan``: fill the calendar from the queue under the give-to-pitch rule."""

from __future__ import annotations

import click

from planner.cli._app import AppState, CommandFailed, echo_json, now_utc, pass_state
from planner.cli._options import account_option, check_accounts, resolve_weeks, week_option
from planner.cli._terminal import steps
from planner.content.lint_state import lint_lines
from planner.plan.model import LISTED
from planner.plan.store import PlanOutcome, plan_weeks
from planner.text import visible

SHOWN = 10  # held, expired and empty-slot lines printed by `planner plan` before "… and N more"


@click.command("plan")
@week_option
@click.option(
    "--weeks",
    "count",
    type=click.IntRange(1, 104),
    default=1,
    show_default=True,
    help="How many weeks to plan.",
)
@account_option
@click.option("--dry-run", is_flag=True, help="Show what would be planned; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def plan_command(
    state: AppState, week: str, count: int, accounts: tuple[str, ...], dry_run: bool, as_json: bool
) -> None:
    """Fill the weekly slots from the queue under the give-to-pitch rule.

    Open slots follow the target mix of kinds; a promo the rule refuses is held (never
    dropped) and retried at every later slot. Planning a week again keeps published and
    claimed posts and replaces only the unpublished plan.

    \b
    Example:
      planner plan --week next --weeks 2 --dry-run
    """
    weeks = resolve_weeks(state, week, count)
    names = check_accounts(state, accounts)
    if not state.config.settings.accounts:
        raise CommandFailed(
            f"nothing to plan: {state.config.path} has no accounts (add an [accounts.NAME] table)"
        )
    with steps(enabled=not as_json) as say, state.database() as db, db.transaction() as session:
        outcome = plan_weeks(
            session,
            state.config,
            weeks,
            now_utc(),
            accounts=names,
            dry_run=dry_run,
            progress=say,
        )
        lint = lint_lines(session, state.config, {p.item.id for p in outcome.placements if p.item})
        if dry_run:
            session.rollback()
    label = ", ".join(f"{y}-W{w:02d}" for y, w in weeks)
    if as_json:
        echo_json({**_outcome_json(outcome, label), "lint": lint})
    else:
        _print_outcome(outcome, label)
        _echo_some([f"  lint    {line}" for line in lint], "lint warnings", "see --json")


def _outcome_json(outcome: PlanOutcome, label: str) -> dict[str, object]:
    return {
        "weeks": label,
        "dry_run": outcome.dry_run,
        "replaced": outcome.replaced,
        "kept": outcome.kept,
        "kept_in_flight": outcome.in_flight,
        "slots": [
            {
                "account": p.slot.account,
                "at": p.slot.at.isoformat(),
                "item": p.item.id if p.item else None,
                "kind": p.item.kind if p.item else None,
                "pitch": p.item.is_pitch if p.item else None,
                "forced": p.forced,
                "reason": p.reason,
            }
            for p in outcome.placements
        ],
        "held": _verdicts_json(outcome.held),
        "waiting": _verdicts_json(outcome.waiting),
        "expired": _verdicts_json(outcome.expired),
        "skipped": _verdicts_json(outcome.skipped),
        "unlisted": dict(sorted(outcome.unlisted.items())),
        "render_problems": outcome.render_problems,
    }


def _verdicts_json(verdicts: dict[tuple[str, str], str]) -> list[dict[str, str]]:
    return [
        {"item": item, "account": account, "reason": reason}
        for (item, account), reason in sorted(verdicts.items())
    ]


def _verdict_lines(word: str, verdicts: dict[tuple[str, str], str]) -> list[str]:
    return [
        f"  {word:<7} {item} on {account}: {reason}"
        for (item, account), reason in sorted(verdicts.items())
    ]


def _print_outcome(outcome: PlanOutcome, label: str) -> None:
    verb = "would plan" if outcome.dry_run else "planned"
    filled = [p for p in outcome.placements if p.item is not None]
    pitches = sum(1 for p in filled if p.item is not None and p.item.is_pitch)
    click.echo(
        f"{label}: {verb} {len(filled)} of {len(outcome.placements)} slots "
        f"({len(filled) - pitches} give, {pitches} pitch) on {len(outcome.accounts)} account(s); "
        f"replaced {outcome.replaced} unpublished post(s), kept {outcome.kept}"
        + (f" ({outcome.in_flight} a runner was publishing)" if outcome.in_flight else "")
    )
    _echo_some(
        _verdict_lines("held", outcome.held), "held", "`planner preview` lists each account's"
    )
    _echo_some(
        _verdict_lines("waiting", outcome.waiting),
        "waiting",
        "each waits for its kind's turn in the mix",
    )
    _echo_some(
        _verdict_lines("expired", outcome.expired), "expired", "`planner preview` lists them"
    )
    for account, count in sorted(outcome.unlisted.items()):
        click.echo(
            f"  and {count} more pitches or dated items left out on {account}, not named "
            f"(a plan names the first {LISTED} per account)"
        )
    empty = [
        f"  warning: {p.slot.account} {p.slot.at:%Y-%m-%d %H:%M} UTC left {p.reason}"
        for p in outcome.empty
    ]
    _echo_some(empty, "empty slots", "`planner preview --week W` shows each, with its reason")
    for (item, account), problem in sorted(outcome.skipped.items()):
        # Problems quote queue texts and template lines: shown, never run as terminal codes.
        click.echo(visible(f"  skipped {item} on {account} (render): {problem}"), err=True)
    if not outcome.dry_run:
        click.echo("See it with: planner preview")


def _echo_some(lines: list[str], what: str, where: str) -> None:
    """The first ``SHOWN`` lines, then how many more there are and where to see them: a year
    of plan for many accounts can hold thousands (``--json`` has them all)."""
    for line in lines[:SHOWN]:
        click.echo(visible(line))
    if len(lines) > SHOWN:
        click.echo(f"  … and {len(lines) - SHOWN} more {what}: {where} (or use --json)")
