"""``planner hold`` and ``planner release``: keep an item out of the plan, or let it back in,
on every account it goes to or on one (``--account``)."""

from __future__ import annotations

import click

from planner.cli._app import AppState, now_utc, pass_state
from planner.cli._options import check_accounts
from planner.content.holds import hold_item, release_item

_one_account = click.option(
    "--account",
    default=None,
    metavar="ACCOUNT",
    help="Only on this account; the item goes on being planned on its others.",
)


def _on(account: str | None) -> str:
    return f" on {account}" if account else ""


@click.command("hold")
@click.argument("item_id", metavar="ITEM")
@_one_account
@pass_state
def hold_command(state: AppState, item_id: str, account: str | None) -> None:
    """Hold ITEM by hand: it leaves the plan at the next `planner plan` and stays queued.

    A held item is not planned until `planner release ITEM`; with --account only that
    account is held. Holding one that is held by hand already says so (exit 1).

    \b
    Examples:
      planner hold webinar-dec && planner plan
      planner hold webinar-dec --account mastodon_main
    """
    if account is not None:
        check_accounts(state, (account,))
    names = list(state.config.settings.accounts)
    with state.database() as db, db.transaction() as session:
        hold_item(session, item_id, now_utc(), account=account, accounts=names)
    click.echo(f"held {item_id}{_on(account)}; run `planner plan` to take it out of the calendar")


@click.command("release")
@click.argument("item_id", metavar="ITEM")
@_one_account
@click.option(
    "--force",
    is_flag=True,
    help="Place it at its next slot even if the ratio rule says no (an override).",
)
@pass_state
def release_command(state: AppState, item_id: str, account: str | None, force: bool) -> None:
    """Release a held ITEM so the planner may place it again (with --account: there only).

    With --force the next `planner plan` puts it on the first slot it can use whatever the
    ratio says; the post is marked as an override and still counts in the window. Without
    --force only an item held by hand can be released: any other exits 1 saying its state.

    \b
    Examples:
      planner release webinar-dec --force
      planner release webinar-dec --account mastodon_main
    """
    if account is not None:
        check_accounts(state, (account,))
    names = list(state.config.settings.accounts)
    with state.database() as db, db.transaction() as session:
        release_item(session, item_id, now_utc(), force=force, account=account, accounts=names)
    how = "forced: it goes on its next slot" if force else "released"
    click.echo(f"{item_id} {how}{_on(account)}; run `planner plan` to place it")
