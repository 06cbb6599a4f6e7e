"""``planner hold`` and ``planner release``: keep an item out of the plan, or let it back in."""

from __future__ import annotations

import click

from planner.cli._app import AppState, now_utc, pass_state
from planner.content.holds import hold_item, release_item


@click.command("hold")
@click.argument("item_id", metavar="ITEM")
@pass_state
def hold_command(state: AppState, item_id: str) -> None:
    """Hold ITEM by hand: it leaves the plan at the next `planner plan` and stays queued.

    A held item is not planned until `planner release ITEM`; holding one that is held by
    hand already says so (exit 1).

    \b
    Example:
      planner hold webinar-dec && planner plan
    """
    with state.database() as db, db.transaction() as session:
        hold_item(session, item_id, now_utc())
    click.echo(f"held {item_id}; run `planner plan` to take it out of the calendar")


@click.command("release")
@click.argument("item_id", metavar="ITEM")
@click.option(
    "--force",
    is_flag=True,
    help="Place it at its next slot even if the ratio rule says no (an override).",
)
@pass_state
def release_command(state: AppState, item_id: str, force: bool) -> None:
    """Release a held ITEM so the planner may place it again.

    With --force the next `planner plan` puts it on the first slot it can use whatever the
    ratio says; the post is marked as an override and still counts in the window. Without
    --force only an item held by hand can be released: any other exits 1 saying its state.

    \b
    Example:
      planner release webinar-dec --force
    """
    with state.database() as db, db.transaction() as session:
        release_item(session, item_id, now_utc(), force=force)
    how = "forced: it goes on its next slot" if force else "released"
    click.echo(f"{item_id} {how}; run `planner plan` to place it")
